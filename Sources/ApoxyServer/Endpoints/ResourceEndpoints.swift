import ApoxyAPI
import ApoxyRegistry
import ApoxyYAML
import HTTPTypes
import Hummingbird
import NIOCore
import Prometheus

/// The HTTP face of one `ResourceStore`: every verb at the kube paths, for any resource (no per-resource handlers).
struct ResourceEndpoints<Strategy: ResourceStrategy>: Sendable {
    typealias Object = Strategy.Object

    let store: ResourceStore<Strategy>
    let now: @Sendable () -> Int64
    /// How often an idle watch gets a BOOKMARK (when it asked for them).
    let bookmarkInterval: Duration
    /// Open watches and events sent, when metrics are on.
    var watchMetrics: WatchMetrics?

    /// The watch gauges of one resource.
    struct WatchMetrics: Sendable {
        let watchers: Gauge
        let events: Counter
    }

    var descriptor: ResourceDescriptor { Object.descriptor }
    var collectionPath: String { descriptor.collectionPath }

    /// Registers the collection, item and status routes.
    func register(on router: Router<APIRequestContext>) {
        router.get(RouterPath(collectionPath)) { request, context in try await self.list(request, channel: context.channel) }
        router.post(RouterPath(collectionPath)) { request, _ in try await self.create(request) }
        router.delete(RouterPath(collectionPath)) { request, _ in try await self.deleteCollection(request) }
        let item = collectionPath + "/:name"
        router.get(RouterPath(item)) { request, context in try await self.get(request, name: try context.name()) }
        router.put(RouterPath(item)) { request, context in
            try await self.update(request, name: try context.name(), subresource: .main)
        }
        router.patch(RouterPath(item)) { request, context in
            try await self.patch(request, name: try context.name(), subresource: .main)
        }
        router.delete(RouterPath(item)) { request, context in try await self.delete(request, name: try context.name()) }
        if descriptor.hasStatusSubresource {
            let status = item + "/status"
            router.get(RouterPath(status)) { request, context in try await self.get(request, name: try context.name()) }
            router.put(RouterPath(status)) { request, context in
                try await self.update(request, name: try context.name(), subresource: .status)
            }
            router.patch(RouterPath(status)) { request, context in
                try await self.patch(request, name: try context.name(), subresource: .status)
            }
        }
    }

    // MARK: Reads

    func get(_ request: Request, name: String) async throws -> Response {
        let query = QueryParameters(request.uri.query)
        let format = try negotiateFormat(request.headers[.accept], allowTable: true)
        let read = try await store.getEncoded(name: name)
        if case .encoded(let json) = read, format == .json, !query.flag("pretty") { return APIResponse.raw(json) }
        let object = read.object
        switch format {
        case .json:
            return APIResponse.json(object.json, pretty: query.flag("pretty"))
        case .table:
            return APIResponse.json(
                try table(
                    [object], resourceVersion: object.metadata.resourceVersion, continueToken: nil, includeObject: query["includeObject"]))
        }
    }

    func list(_ request: Request, channel: any Channel) async throws -> Response {
        let query = QueryParameters(request.uri.query)
        let format = try negotiateFormat(request.headers[.accept], allowTable: true)
        if query.flag("watch") {
            return try await watch(request, query: query, format: format, channel: channel)
        }
        let options = try listOptions(query)
        let result = try await store.list(options: options)
        switch format {
        case .json:
            return APIResponse.raw(listDocument(result))
        case .table:
            return APIResponse.json(
                try table(
                    result.items, resourceVersion: result.resourceVersion, continueToken: result.continueToken,
                    includeObject: query["includeObject"]))
        }
    }

    func listOptions(_ query: QueryParameters) throws(StatusError) -> ListOptions {
        var options = ListOptions()
        if let selector = query["labelSelector"] { options.labelSelector = try LabelSelector(parsing: selector) }
        if let selector = query["fieldSelector"] {
            options.fieldSelector = try FieldSelector(parsing: selector, supportedFields: store.supportedFieldSelectors)
        }
        if let limit = try query.int64("limit") { options.limit = Int(clamping: limit) }
        // Lists take timeoutSeconds too (watches use it); it must parse either way.
        if let timeout = try query.int64("timeoutSeconds"), timeout < 0 {
            throw .badRequest("timeoutSeconds: Invalid value: \"\(timeout)\": must be a non-negative integer")
        }
        options.continueToken = query["continue"]
        options.resourceVersion = query["resourceVersion"]
        options.resourceVersionMatch = query["resourceVersionMatch"]
        return options
    }

    /// The list document, serialised item by item so a large list is not built as one tree first, straight into
    /// the response buffer so a 10,000-item list is copied once.
    func listDocument(_ result: ObjectList<Object>) -> ByteBuffer {
        var metadata: [String: JSONValue] = ["resourceVersion": .string(result.resourceVersion)]
        if let token = result.continueToken { metadata["continue"] = .string(token) }
        if let remaining = result.remainingItemCount { metadata["remainingItemCount"] = .integer(remaining) }
        var head: [UInt8] = Array("{\"apiVersion\":".utf8)
        JSONValue.string(descriptor.apiVersion).write(to: &head, indent: nil, level: 0)
        head.append(contentsOf: ",\"items\":[".utf8)
        var tail: [UInt8] = Array("],\"kind\":".utf8)
        JSONValue.string(descriptor.listKind).write(to: &tail, indent: nil, level: 0)
        tail.append(contentsOf: ",\"metadata\":".utf8)
        JSONValue.object(metadata).write(to: &tail, indent: nil, level: 0)
        tail.append(UInt8(ascii: "}"))

        let items: [[UInt8]] = result.encodedItems ?? result.items.map { $0.json.serialized() }
        var out = ByteBuffer()
        out.reserveCapacity(head.count + tail.count + items.reduce(0) { $0 + $1.count + 1 })
        out.writeBytes(head)
        for (i, item) in items.enumerated() {
            if i > 0 { out.writeInteger(UInt8(ascii: ",")) }
            out.writeBytes(item)
        }
        out.writeBytes(tail)
        return out
    }

    // MARK: Writes

    func body(_ request: Request) async throws -> [UInt8] {
        let buffer = try await request.body.collect(upTo: APIServerConfiguration.maxRequestBodyBytes)
        return Array(buffer.readableBytesView)
    }

    func writeOptions(_ query: QueryParameters, _ request: Request) throws(StatusError) -> WriteOptions {
        var manager = query["fieldManager"]
        if let name = manager, name.utf8.count > 128 || name.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) {
            throw StatusError.invalid(
                kind: "PatchOptions", group: "meta.k8s.io", name: "",
                [FieldError(.invalid, "fieldManager", .string(name), "must be at most 128 printable characters")])
        }
        if manager == nil, let agent = request.headers[.userAgent], !agent.isEmpty {
            // kube records writers without a fieldManager under their User-Agent's product name.
            manager = String(agent.split(separator: "/", maxSplits: 1).first ?? Substring(agent))
        }
        return WriteOptions(
            dryRun: try parseDryRun(query.all("dryRun")),
            fieldValidation: try FieldValidation.parse(query["fieldValidation"]),
            fieldManager: manager,
            force: query.flag("force"))
    }

    /// The request body as JSON: JSON as sent, or a single YAML document converted (kube accepts both).
    func objectBody(_ request: Request) async throws -> [UInt8] {
        let contentType = MediaType.list(request.headers[.contentType]).first?.type ?? ""
        switch contentType {
        case "", "application/json":
            return try await body(request)
        case "application/yaml":
            return try Self.jsonFromYAML(try await body(request))
        case KubeProtobuf.mediaType:
            return try KubeProtobuf.decode(try await body(request)).serialized()
        default:
            throw StatusError.unsupportedMediaType(
                "the body of the request was in an unknown format - accepted media types include: application/json, application/yaml")
        }
    }

    /// Converts one YAML document to JSON bytes (400 for bad YAML or several documents).
    static func jsonFromYAML(_ bytes: [UInt8]) throws(StatusError) -> [UInt8] {
        let documents: [JSONValue]
        do {
            documents = try YAMLCoding.parseDocuments(String(decoding: bytes, as: UTF8.self))
        } catch {
            throw .badRequest("error decoding YAML: \(error.message)")
        }
        guard documents.count == 1 else {
            throw .badRequest("error decoding YAML: expected exactly one document, found \(documents.count)")
        }
        return documents[0].serialized()
    }

    func create(_ request: Request) async throws -> Response {
        let query = QueryParameters(request.uri.query)
        let result = try await store.create(body: try await objectBody(request), options: try writeOptions(query, request))
        return APIResponse.json(result.object.json, status: .created, warnings: result.warnings, pretty: query.flag("pretty"))
    }

    func update(_ request: Request, name: String, subresource: Subresource) async throws -> Response {
        let query = QueryParameters(request.uri.query)
        let result = try await store.update(
            name: name, body: try await objectBody(request), subresource: subresource, options: try writeOptions(query, request))
        return APIResponse.json(result.object.json, warnings: result.warnings, pretty: query.flag("pretty"))
    }

    func patch(_ request: Request, name: String, subresource: Subresource) async throws -> Response {
        let query = QueryParameters(request.uri.query)
        let contentType = MediaType.list(request.headers[.contentType]).first?.type ?? ""
        guard let type = PatchType(rawValue: contentType) else {
            throw StatusError.unsupportedMediaType(
                "the body of the request was in an unknown format - accepted media types include: "
                    + PatchType.accepted.joined(separator: ", "))
        }
        var options = try writeOptions(query, request)
        // Apply records exactly the fieldManager given (it is required); other writes fall back to the User-Agent.
        if type == .apply { options.fieldManager = query["fieldManager"] }
        var patchBody = try await body(request)
        // An apply configuration may be YAML or JSON; JSON is YAML too, but the strict JSON parser keeps number types.
        if type == .apply, patchBody.first(where: { ![0x20, 0x0A, 0x0D, 0x09].contains($0) }) != UInt8(ascii: "{") {
            patchBody = try Self.jsonFromYAML(patchBody)
        }
        let result = try await store.patch(
            name: name, type: type, body: patchBody, subresource: subresource, options: options)
        return APIResponse.json(
            result.object.json, status: result.created ? .created : .ok, warnings: result.warnings, pretty: query.flag("pretty"))
    }

    func deleteOptions(_ request: Request, _ query: QueryParameters) async throws -> DeleteOptions {
        var options = try DeleteOptions.parse(body: try await body(request))
        if query["dryRun"] != nil { options.dryRun = try parseDryRun(query.all("dryRun")) }
        if let policy = query["propagationPolicy"] { options.propagationPolicy = policy }
        if let grace = try query.int64("gracePeriodSeconds") { options.gracePeriodSeconds = grace }
        try options.validate()
        return options
    }

    func delete(_ request: Request, name: String) async throws -> Response {
        let query = QueryParameters(request.uri.query)
        let options = try await deleteOptions(request, query)
        switch try await store.delete(name: name, options: options) {
        case .pending(let object):
            return APIResponse.json(object.json)
        case .deleted(let object):
            return APIResponse.json([
                "kind": "Status", "apiVersion": "v1", "metadata": .object([:]), "status": "Success",
                "details": [
                    "name": .string(name), "group": .string(descriptor.group), "kind": .string(descriptor.plural),
                    "uid": .string(object.metadata.uid),
                ],
            ])
        }
    }

    func deleteCollection(_ request: Request) async throws -> Response {
        let query = QueryParameters(request.uri.query)
        let options = try await deleteOptions(request, query)
        let result = try await store.deleteCollection(listOptions: try listOptions(query), options: options)
        return APIResponse.raw(listDocument(result))
    }

    // MARK: Table

    /// A meta.k8s.io/v1 Table of `objects` (kube's server-side printing) with NAME first and AGE last.
    func table(
        _ objects: [Object], resourceVersion: String, continueToken: String?, includeObject: String?
    ) throws(StatusError) -> JSONValue {
        let includeObject = includeObject ?? "Metadata"
        guard ["None", "Metadata", "Object"].contains(includeObject) else {
            throw .badRequest(
                "includeObject: Unsupported value: \"\(includeObject)\": supported values: \"Metadata\", \"None\", \"Object\"")
        }
        var columns: [JSONValue] = [
            [
                "name": "Name", "type": "string", "format": "name", "priority": 0,
                "description":
                    "Name must be unique within a namespace. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names",
            ]
        ]
        for column in store.tableColumns {
            columns.append([
                "name": .string(column.name), "type": .string(column.type), "format": .string(column.format),
                "description": .string(column.description), "priority": .integer(Int64(column.priority)),
            ])
        }
        columns.append([
            "name": "Age", "type": "date", "format": "", "priority": 0,
            "description": "CreationTimestamp is a timestamp representing the server time when this object was created.",
        ])
        let current = now()
        let rows: [JSONValue] = objects.map { object in
            var cells: [JSONValue] = [.string(object.metadata.name)]
            cells += store.tableCells(object)
            cells.append(.string(object.metadata.creationTimestamp.map { humanDuration(seconds: current - $0) } ?? "<unknown>"))
            var row: [String: JSONValue] = ["cells": .array(cells)]
            switch includeObject {
            case "Object":
                row["object"] = object.json
            case "Metadata":
                row["object"] = ["kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": object.metadata.json]
            default:
                break
            }
            return .object(row)
        }
        var metadata: [String: JSONValue] = ["resourceVersion": .string(resourceVersion)]
        if let continueToken { metadata["continue"] = .string(continueToken) }
        return [
            "kind": "Table", "apiVersion": "meta.k8s.io/v1", "metadata": .object(metadata), "columnDefinitions": .array(columns),
            "rows": .array(rows),
        ]
    }
}

extension RequestContext {
    func name() throws -> String {
        guard let name = parameters.get("name") else { throw StatusError.badRequest("missing name") }
        return name
    }
}

/// kube's `duration.HumanDuration`: `45s`, `3m20s`, `15m`, `4h10m`, `3d5h`, `2y10d`.
func humanDuration(seconds: Int64) -> String {
    if seconds < -1 { return "<invalid>" }
    if seconds < 0 { return "0s" }
    if seconds < 120 { return "\(seconds)s" }
    let minutes = seconds / 60
    if minutes < 10 {
        let s = seconds % 60
        return s == 0 ? "\(minutes)m" : "\(minutes)m\(s)s"
    }
    if minutes < 180 { return "\(minutes)m" }
    let hours = seconds / 3600
    if hours < 8 {
        let m = minutes % 60
        return m == 0 ? "\(hours)h" : "\(hours)h\(m)m"
    }
    if hours < 48 { return "\(hours)h" }
    if hours < 24 * 8 {
        let h = hours % 24
        return h == 0 ? "\(hours / 24)d" : "\(hours / 24)d\(h)h"
    }
    if hours < 24 * 365 * 2 { return "\(hours / 24)d" }
    if hours < 24 * 365 * 8 {
        let dy = (hours / 24) % 365
        return dy == 0 ? "\(hours / 24 / 365)y" : "\(hours / 24 / 365)y\(dy)d"
    }
    return "\(hours / 24 / 365)y"
}
