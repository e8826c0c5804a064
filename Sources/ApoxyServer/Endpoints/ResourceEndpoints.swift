import ApoxyAPI
import ApoxyRegistry
import ApoxyYAML
import HTTPTypes
import Hummingbird
import Logging
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
    /// Where watch endings are logged.
    var logger: Logger

    /// The watch gauges of one resource.
    struct WatchMetrics: Sendable {
        let watchers: Gauge
        let events: Counter
    }

    var descriptor: ResourceDescriptor { Object.descriptor }

    /// The path parameter naming an item. `/api/v1/namespaces/<x>` is both a Namespace and the start of every
    /// namespaced path, and the router does not backtrack between two captures at one position, so a Namespace's
    /// name is captured as `namespace` too.
    var nameParameter: String { descriptor.group.isEmpty && descriptor.plural == Namespace.descriptor.plural ? "namespace" : "name" }

    /// Registers the collection, item and status routes of the resource's verbs: for a namespaced resource under
    /// `namespaces/<namespace>/`, plus the list and watch across every namespace. Any other method on one of these
    /// paths answers 405 MethodNotAllowed, as kube-apiserver does (an unknown path stays 404).
    func register(on router: Router<APIRequestContext>) {
        var routes = RouteTable(router: router)
        let verbs = Set(descriptor.verbs)
        let collection: String
        if descriptor.namespaced {
            collection = descriptor.collectionPath(namespace: ":namespace")
            routes.on(.get, descriptor.collectionPath) { request, context in
                try await self.list(request, namespace: nil, channel: context.channel)
            }
        } else {
            collection = descriptor.collectionPath
        }
        @Sendable func namespace(_ context: APIRequestContext) -> String {
            descriptor.namespaced ? context.parameters.get("namespace") ?? "" : ""
        }
        @Sendable func name(_ context: APIRequestContext) throws -> String {
            guard let name = context.parameters.get(nameParameter) else { throw StatusError.badRequest("missing name") }
            return name
        }
        if verbs.contains("list") || verbs.contains("watch") {
            routes.on(.get, collection) { request, context in
                try await self.list(request, namespace: namespace(context), channel: context.channel)
            }
        }
        if verbs.contains("create") {
            routes.on(.post, collection) { request, context in try await self.create(request, namespace: namespace(context)) }
        }
        if verbs.contains("deletecollection") {
            routes.on(.delete, collection) { request, context in
                try await self.deleteCollection(request, namespace: namespace(context))
            }
        }
        let item = collection + "/:" + nameParameter
        if verbs.contains("get") {
            routes.on(.get, item) { request, context in
                try await self.get(request, name: try name(context), namespace: namespace(context))
            }
        }
        if verbs.contains("update") {
            routes.on(.put, item) { request, context in
                try await self.update(request, name: try name(context), namespace: namespace(context), subresource: .main)
            }
        }
        if verbs.contains("patch") {
            routes.on(.patch, item) { request, context in
                try await self.patch(request, name: try name(context), namespace: namespace(context), subresource: .main)
            }
        }
        if verbs.contains("delete") {
            routes.on(.delete, item) { request, context in
                try await self.delete(request, name: try name(context), namespace: namespace(context))
            }
        }
        if descriptor.hasStatusSubresource {
            let status = item + "/status"
            routes.on(.get, status) { request, context in
                try await self.get(request, name: try name(context), namespace: namespace(context))
            }
            routes.on(.put, status) { request, context in
                try await self.update(request, name: try name(context), namespace: namespace(context), subresource: .status)
            }
            routes.on(.patch, status) { request, context in
                try await self.patch(request, name: try name(context), namespace: namespace(context), subresource: .status)
            }
        }
        routes.refuseOtherMethods()
    }

    // MARK: Reads

    func get(_ request: Request, name: String, namespace: String) async throws -> Response {
        let query = QueryParameters(request.uri.query)
        let format = try negotiateFormat(request.headers[.accept], allowTable: true)
        let read = try await store.getEncoded(name: name, namespace: namespace)
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

    /// A list or watch; `namespace` nil spans every namespace.
    func list(_ request: Request, namespace: String?, channel: any Channel) async throws -> Response {
        let query = QueryParameters(request.uri.query)
        let format = try negotiateFormat(request.headers[.accept], allowTable: true)
        if query.flag("watch") {
            guard descriptor.verbs.contains("watch") else {
                throw StatusError.methodNotAllowed("watch is not supported on \(descriptor.plural)")
            }
            return try await watch(request, query: query, namespace: namespace, format: format, channel: channel)
        }
        let options = try listOptions(query, namespace: namespace)
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

    func listOptions(_ query: QueryParameters, namespace: String?) throws(StatusError) -> ListOptions {
        var options = ListOptions()
        options.namespace = namespace
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
        var metadata: JSONObject = ["resourceVersion": .string(result.resourceVersion)]
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

    func create(_ request: Request, namespace: String) async throws -> Response {
        let query = QueryParameters(request.uri.query)
        let result = try await store.create(
            body: try await objectBody(request), namespace: namespace, options: try writeOptions(query, request))
        return APIResponse.json(result.object.json, status: .created, warnings: result.warnings, pretty: query.flag("pretty"))
    }

    func update(_ request: Request, name: String, namespace: String, subresource: Subresource) async throws -> Response {
        let query = QueryParameters(request.uri.query)
        let result = try await store.update(
            name: name, namespace: namespace, body: try await objectBody(request), subresource: subresource,
            options: try writeOptions(query, request))
        return APIResponse.json(result.object.json, warnings: result.warnings, pretty: query.flag("pretty"))
    }

    func patch(_ request: Request, name: String, namespace: String, subresource: Subresource) async throws -> Response {
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
            name: name, namespace: namespace, type: type, body: patchBody, subresource: subresource, options: options)
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

    func delete(_ request: Request, name: String, namespace: String) async throws -> Response {
        let query = QueryParameters(request.uri.query)
        let options = try await deleteOptions(request, query)
        switch try await store.delete(name: name, namespace: namespace, options: options) {
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

    func deleteCollection(_ request: Request, namespace: String) async throws -> Response {
        let query = QueryParameters(request.uri.query)
        let options = try await deleteOptions(request, query)
        let result = try await store.deleteCollection(listOptions: try listOptions(query, namespace: namespace), options: options)
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
        func column(_ column: TableColumn) -> JSONValue {
            [
                "name": .string(column.name), "type": .string(column.type), "format": .string(column.format),
                "description": .string(column.description), "priority": .integer(Int64(column.priority)),
            ]
        }
        let current = now()
        let full = store.fullTableColumns
        var columns: [JSONValue]
        if let full {
            columns = full.map(column)
        } else {
            columns = [
                [
                    "name": "Name", "type": "string", "format": "name", "priority": 0,
                    "description":
                        "Name must be unique within a namespace. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names",
                ]
            ]
            columns += store.tableColumns.map(column)
            columns.append([
                "name": "Age", "type": "date", "format": "", "priority": 0,
                "description": "CreationTimestamp is a timestamp representing the server time when this object was created.",
            ])
        }
        let rows: [JSONValue] = objects.map { object in
            var cells: [JSONValue]
            if full != nil {
                cells = store.fullTableRow(object, now: current)
            } else {
                cells = [.string(object.metadata.name)]
                cells += store.tableCells(object)
                cells.append(.string(object.metadata.creationTimestamp.map { humanDuration(seconds: current - $0) } ?? "<unknown>"))
            }
            var row: JSONObject = ["cells": .array(cells)]
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
        var metadata: JSONObject = ["resourceVersion": .string(resourceVersion)]
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

/// The routes of one resource as they are registered, so that every other method on their paths can be refused with
/// 405: Hummingbird's router answers a known path with an unknown method as it answers an unknown path.
struct RouteTable {
    let router: Router<APIRequestContext>
    /// The methods registered on each path, in registration order of the paths.
    private var methods: [(path: String, methods: Set<HTTPRequest.Method>)] = []

    init(router: Router<APIRequestContext>) { self.router = router }

    /// Registers `handler` for `method` on `path`.
    mutating func on(
        _ method: HTTPRequest.Method, _ path: String,
        _ handler: @escaping @Sendable (Request, APIRequestContext) async throws -> Response
    ) {
        router.on(RouterPath(path), method: method, use: handler)
        if let index = methods.firstIndex(where: { $0.path == path }) {
            methods[index].methods.insert(method)
        } else {
            methods.append((path, [method]))
        }
    }

    /// The methods kube-apiserver routes for resources; any of them not registered on a path answers 405 there.
    static let resourceMethods: [HTTPRequest.Method] = [.get, .post, .put, .patch, .delete]

    /// Registers a 405 MethodNotAllowed for every resource method a path does not serve.
    func refuseOtherMethods() {
        for (path, served) in methods {
            for method in Self.resourceMethods where !served.contains(method) {
                router.on(RouterPath(path), method: method) { _, _ -> Response in
                    throw StatusError.methodNotAllowed("the server does not allow this method on the requested resource")
                }
            }
        }
    }
}
