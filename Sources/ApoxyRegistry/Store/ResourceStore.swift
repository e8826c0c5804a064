public import ApoxyAPI
public import ApoxyStorage
public import Foundation

/// The outcome of a write: the object as stored (or as it would be, for a dry run) and warnings for the client.
public struct WriteResult<Object: APIObject>: Sendable {
    public var object: Object
    /// Texts for `Warning: 299 - "..."` headers.
    public var warnings: [String]
    /// True when a create happened (201 instead of 200).
    public var created: Bool
}

/// What a delete did.
public enum DeleteOutcome<Object: APIObject>: Sendable {
    /// The object is gone; this is its last state.
    case deleted(Object)
    /// Finalizers remain: the object now carries a deletionTimestamp.
    case pending(Object)
}

/// A page of objects at one revision.
public struct ObjectList<Object: APIObject>: Sendable {
    public var resourceVersion: String
    public var continueToken: String?
    public var remainingItemCount: Int64?
    /// The items already serialised, when they came from the watch cache; `items` then decodes them.
    public var encodedItems: [[UInt8]]?
    private var decodedItems: [Object]

    /// The items decoded (from `encodedItems` when the list came from the watch cache, so read it once).
    public var items: [Object] {
        guard let encodedItems else { return decodedItems }
        return encodedItems.map { CachedObject.decode($0) }
    }

    /// A list of decoded objects.
    public init(items: [Object], resourceVersion: String, continueToken: String?, remainingItemCount: Int64?) {
        self.decodedItems = items
        self.resourceVersion = resourceVersion
        self.continueToken = continueToken
        self.remainingItemCount = remainingItemCount
        self.encodedItems = nil
    }

    /// A list of serialised objects (from the watch cache).
    public init(encodedItems: [[UInt8]], resourceVersion: String, continueToken: String?, remainingItemCount: Int64?) {
        self.decodedItems = []
        self.resourceVersion = resourceVersion
        self.continueToken = continueToken
        self.remainingItemCount = remainingItemCount
        self.encodedItems = encodedItems
    }
}

/// An object read for a client: decoded from storage, or the watch cache's serialisation.
public enum ReadObject<Object: APIObject>: Sendable {
    case decoded(Object)
    case encoded([UInt8])

    /// The typed object (decoding the serialisation if needed).
    public var object: Object {
        switch self {
        case .decoded(let object): return object
        case .encoded(let json): return CachedObject.decode(json)
        }
    }
}

/// Options of list and delete-collection.
public struct ListOptions: Sendable {
    public var labelSelector: LabelSelector = .everything
    public var fieldSelector: FieldSelector = .everything
    public var limit: Int?
    public var continueToken: String?
    public var resourceVersion: String?
    public var resourceVersionMatch: String?
    /// For a namespaced resource, the namespace to list; nil lists every namespace.
    public var namespace: String?

    /// Creates options.
    public init() {}
}

/// One generic store for any resource, driven by its strategy (kube's generic registry `Store`): every verb's
/// Kubernetes semantics live here once, so a new resource needs a type and a strategy, not new handlers.
public final class ResourceStore<Strategy: ResourceStrategy>: Sendable {
    public typealias Object = Strategy.Object

    let storage: any RevisionedStorage
    let strategy: Strategy
    let now: @Sendable () -> Int64
    /// The in-memory replica serving watches and latest-revision lists; nil serves everything from storage.
    public let cache: WatchCache<Object>?
    /// Tracks field ownership (managedFields) and performs server-side apply.
    let fieldManager: FieldManager
    /// The strategy's selectable fields, read from JSON the same way for stored and cached objects.
    let selectableFields: SelectableFields
    /// Whether a namespace exists, asked before an object is created in it (kube's NamespaceLifecycle admission);
    /// nil for cluster-scoped resources.
    let namespaceExists: (@Sendable (String) async -> Bool)?

    /// The descriptor of the served resource.
    public var descriptor: ResourceDescriptor { Object.descriptor }
    var groupResource: GroupResource { descriptor.groupResource }
    var keyPrefix: String { Self.keyPrefix }

    /// Creates a store over `storage`; with `cache`, lists at the latest revision and watches come from memory.
    public init(
        storage: any RevisionedStorage, strategy: Strategy, cache: WatchCache<Object>? = nil,
        now: @escaping @Sendable () -> Int64 = { Int64(Date().timeIntervalSince1970) },
        namespaceExists: (@Sendable (String) async -> Bool)? = nil
    ) {
        self.storage = storage
        self.strategy = strategy
        self.cache = cache
        self.now = now
        self.fieldManager = FieldManager(schema: Object.descriptor.schema, apiVersion: Object.descriptor.apiVersion)
        self.selectableFields = Self.selectableFields(strategy)
        self.namespaceExists = namespaceExists
    }

    /// The fields a resource's field selectors read: the strategy's, and `metadata.namespace` for a namespaced one.
    public static func selectableFields(_ strategy: Strategy) -> SelectableFields {
        SelectableFields((Object.descriptor.namespaced ? ["metadata.namespace"] : []) + strategy.selectableFields)
    }

    /// The storage key prefix of this resource (`/<group>/<plural>/`); a namespaced object's key goes on with
    /// `<namespace>/<name>`, as kube's etcd keys do.
    /// The core group has no name: its resources' keys start `/<plural>/`.
    public static var keyPrefix: String {
        let stored = Object.descriptor.storedAs ?? Object.descriptor.groupResource
        return stored.group.isEmpty ? "/\(stored.resource)/" : "/\(stored.group)/\(stored.resource)/"
    }

    /// The strategy's table columns.
    public var tableColumns: [TableColumn] { strategy.tableColumns }

    /// The strategy's cells for one object.
    public func tableCells(_ object: Object) -> [JSONValue] { strategy.tableCells(object) }

    /// The strategy's whole-row columns, when it prints without NAME and AGE.
    public var fullTableColumns: [TableColumn]? { strategy.fullTableColumns }

    /// The strategy's whole row for one object.
    public func fullTableRow(_ object: Object, now: Int64) -> [JSONValue] { strategy.fullTableRow(object, now: now) }

    /// The storage key of an object, and the watch cache's name for it: `name`, or `namespace/name`.
    func path(_ name: String, _ namespace: String) -> String { descriptor.namespaced ? namespace + "/" + name : name }

    func key(_ name: String, _ namespace: String) -> String { keyPrefix + path(name, namespace) }

    /// Where a written object lives (kube's `rest.BeforeCreate`/`BeforeUpdate`): a namespaced object takes the
    /// request's namespace and may not name another; a cluster-scoped object has none.
    func scope(_ object: inout Object, to namespace: String) throws(StatusError) {
        guard descriptor.namespaced else {
            object.metadata.namespace = ""
            return
        }
        if object.metadata.namespace.isEmpty { object.metadata.namespace = namespace }
        guard object.metadata.namespace == namespace else {
            throw .badRequest("the namespace of the provided object does not match the namespace sent on the request")
        }
    }

    // MARK: Decoding and encoding

    /// The stored form: the object's JSON without `resourceVersion`, which is the storage revision.
    func encode(_ object: Object) -> [UInt8] {
        var copy = object
        copy.metadata.resourceVersion = ""
        var json = copy.json
        strategy.toStorage(&json)
        return json.serialized()
    }

    func decode(_ stored: StoredObject) throws(StatusError) -> Object {
        guard var json = try? JSONValue.parse(stored.value).value else {
            throw .internalError("stored object \(stored.key) is not valid JSON")
        }
        strategy.fromStorage(&json)
        var object = Object(json: json)
        object.metadata.resourceVersion = String(stored.modRevision)
        return object
    }

    /// Runs a storage call, mapping its errors to API errors in the one place they are mapped.
    func run<T>(name: String, _ body: () async throws -> T) async throws(StatusError) -> T {
        do {
            return try await body()
        } catch let error as StatusError {
            throw error
        } catch let error as StorageError {
            throw statusError(for: error, name: name)
        } catch {
            throw .internalError("\(error)")
        }
    }

    func statusError(for error: StorageError, name: String) -> StatusError {
        switch error.code {
        case .keyExists: return .alreadyExists(groupResource, name)
        case .keyNotFound: return .notFound(groupResource, name)
        case .conflict: return .conflict(groupResource, name)
        case .compacted(let oldest):
            return .expired("The resourceVersion for the provided list is too old. Oldest retained revision is \(oldest).")
        case .futureRevision(let current):
            return StatusError(
                code: 504, reason: .timeout,
                message: "Too large resource version: requested revision is newer than current revision \(current)",
                retryAfterSeconds: 1)
        case .unavailable: return .unavailable("storage is unavailable: \(error.message)")
        }
    }

    // MARK: Body decoding

    /// Parses and checks a request body the way kube-apiserver decodes a custom resource: JSON syntax (400),
    /// apiVersion (400), kind (422 on `kind`), then normalisation, schema validation, pruning and defaulting.
    func decodeBody(
        _ body: [UInt8], fieldValidation: FieldValidation, schemaErrors: inout [FieldError]
    ) throws(StatusError) -> (JSONValue, [String]) {
        let parsed: ParsedJSON
        do {
            parsed = try JSONValue.parse(body)
        } catch {
            throw .badRequest("couldn't get version/kind; json parse error: \(error.message)")
        }
        return try checkDocument(
            parsed.value, duplicateFields: parsed.duplicateFields, fieldValidation: fieldValidation, schemaErrors: &schemaErrors)
    }

    func checkDocument(
        _ document: JSONValue, duplicateFields: [String], fieldValidation: FieldValidation, schemaErrors: inout [FieldError],
        applyDefaults: Bool = true
    ) throws(StatusError) -> (JSONValue, [String]) {
        guard case .object = document else {
            throw .badRequest("couldn't get version/kind; json parse error: expected a JSON object, got \(document.typeName)")
        }
        var document = document
        if descriptor.isBuiltIn {
            // kube decodes its own types with the endpoint's group, version and kind as defaults for missing ones
            // (clients such as kopf post Events without them); custom resources get no such defaulting.
            if (document["apiVersion"]?.stringValue ?? "").isEmpty { document["apiVersion"] = .string(descriptor.apiVersion) }
            if (document["kind"]?.stringValue ?? "").isEmpty { document["kind"] = .string(descriptor.kind) }
        }
        let apiVersion = document["apiVersion"]?.stringValue ?? ""
        let kind = document["kind"]?.stringValue ?? ""
        if apiVersion.isEmpty {
            throw .badRequest("Object 'apiVersion' is missing in '\(String(decoding: document.serialized().prefix(512), as: UTF8.self))'")
        }
        if kind.isEmpty {
            throw .badRequest("Object 'Kind' is missing in '\(String(decoding: document.serialized().prefix(512), as: UTF8.self))'")
        }
        if apiVersion != descriptor.apiVersion {
            throw .badRequest(
                "the API version in the data (\(apiVersion)) does not match the expected API version (\(descriptor.apiVersion))")
        }
        if kind != descriptor.kind {
            let name = document["metadata"]?["name"]?.stringValue ?? ""
            throw StatusError.invalid(
                kind: descriptor.kind, group: descriptor.group, name: name,
                [FieldError(.invalid, "kind", .string(kind), "must be \(descriptor.kind)")])
        }
        var normalized = document
        strategy.normalize(&normalized)
        let checked = descriptor.schema.check(normalized, applyDefaults: applyDefaults)
        schemaErrors = checked.errors
        var problems: [String] = []
        for field in checked.unknownFields { problems.append("unknown field \"\(field)\"") }
        for field in duplicateFields { problems.append("duplicate field \"\(field)\"") }
        var warnings: [String] = []
        switch fieldValidation {
        case .strict where !problems.isEmpty:
            throw .badRequest("strict decoding error: " + problems.joined(separator: ", "))
        case .warn:
            warnings = problems
        default:
            break
        }
        return (checked.value, warnings)
    }

    /// Collects schema errors, metadata errors and the strategy's semantic errors (dropping semantic errors at or
    /// under a field the schema already rejected), and throws 422 Invalid if there are any.
    func validate(_ object: Object, schemaErrors: [FieldError], extra: [FieldError] = [], old: Object? = nil) throws(StatusError) {
        var errors = schemaErrors + extra
        errors += object.metadata.validate(at: FieldPath("metadata"))
        let rejected = schemaErrors.map(\.field)
        for error in old.map({ strategy.validateUpdate(object, old: $0) }) ?? strategy.validate(object) {
            let shadowed = rejected.contains { field in
                error.field == field || error.field.hasPrefix(field + ".") || error.field.hasPrefix(field + "[")
            }
            if !shadowed { errors.append(error) }
        }
        if !errors.isEmpty {
            throw StatusError.invalid(kind: descriptor.kind, group: descriptor.group, name: object.metadata.name, errors)
        }
    }

    // MARK: Get

    /// The named object, or 404.
    public func get(name: String, namespace: String = "") async throws(StatusError) -> Object {
        try await getEncoded(name: name, namespace: namespace).object
    }

    /// The named object (or 404), serialised when it came from the watch cache. A consistent read, as kube's GET
    /// without resourceVersion: the cache answers only when it already reflects storage's current revision (read
    /// after the request arrived); otherwise storage does. The cache saves a storage round trip, a decode and an
    /// encode.
    public func getEncoded(name: String, namespace: String = "") async throws(StatusError) -> ReadObject<Object> {
        if let cache, storage.watchReachesCurrentRevisionInOrder {
            let current = try await run(name: name) { try await storage.currentRevision() }
            if let cached = cache.entry(named: path(name, namespace), freshAt: current) {
                guard let cached else { throw .notFound(groupResource, name) }
                return .encoded(cached.json)
            }
        }
        let stored = try await run(name: name) { try await storage.get(key: key(name, namespace)) }
        guard let stored else { throw .notFound(groupResource, name) }
        return .decoded(try decode(stored))
    }

    // MARK: Create

    /// Creates an object from a request body (POST), or validates it only (dry run).
    public func create(body: [UInt8], namespace: String = "", options: WriteOptions) async throws(StatusError) -> WriteResult<Object> {
        var schemaErrors: [FieldError] = []
        let (json, warnings) = try decodeBody(body, fieldValidation: options.fieldValidation, schemaErrors: &schemaErrors)
        return try await create(
            json: json, namespace: namespace, warnings: warnings, schemaErrors: schemaErrors, options: options, managedFields: nil)
    }

    /// Creates a checked document; `managedFields` (from an apply) replaces the ownership a create records.
    func create(
        json: JSONValue, namespace: String, warnings: [String], schemaErrors: [FieldError], options: WriteOptions,
        managedFields: [ManagedFieldsEntry]?
    ) async throws(StatusError) -> WriteResult<Object> {
        var object = Object(json: json.removingMember("status"))
        try scope(&object, to: namespace)
        if let namespaceExists, !(await namespaceExists(namespace)) {
            throw .notFound(GroupResource(group: "", resource: "namespaces"), namespace)
        }
        var metadataErrors: [FieldError] = []
        if object.metadata.name.isEmpty {
            if object.metadata.generateName.isEmpty {
                metadataErrors.append(FieldError(.required, "metadata.name", nil, "name or generateName is required"))
            } else {
                object.metadata.name = object.metadata.generateName + Self.randomSuffix()
            }
        }
        if !object.metadata.name.isEmpty {
            for message in strategy.nameErrors(object.metadata.name) {
                metadataErrors.append(FieldError(.invalid, "metadata.name", .string(object.metadata.name), message))
            }
        }
        object.metadata.uid = UUID().uuidString.lowercased()
        object.metadata.creationTimestamp = now()
        object.metadata.generation = strategy.tracksGeneration ? 1 : 0
        object.metadata.resourceVersion = ""
        object.metadata.deletionTimestamp = nil
        object.metadata.deletionGracePeriodSeconds = nil
        object.metadata.managedFields = nil
        let entries =
            managedFields
            ?? fieldManager.update(old: nil, new: object.json, entries: [], manager: options.manager, subresource: "", now: now())
        object.metadata.managedFields = FieldManager.json(entries)
        try validate(object, schemaErrors: schemaErrors, extra: metadataErrors)
        if options.dryRun {
            if try await run(name: object.metadata.name, { try await storage.get(key: key(object.metadata.name, namespace)) }) != nil {
                throw .alreadyExists(groupResource, object.metadata.name)
            }
            return WriteResult(object: object, warnings: warnings, created: true)
        }
        let stored = try await run(name: object.metadata.name) {
            try await storage.create(key: key(object.metadata.name, namespace), value: encode(object))
        }
        object.metadata.resourceVersion = String(stored.modRevision)
        return WriteResult(object: object, warnings: warnings, created: true)
    }

    static func randomSuffix() -> String {
        // kube's alphabet: no vowels (no words) and no confusable characters.
        let alphabet = Array("bcdfghjklmnpqrstvwxz2456789")
        return String((0..<5).map { _ in alphabet.randomElement()! })
    }
}

extension JSONValue {
    func removingMember(_ name: String) -> JSONValue {
        guard case .object(var members) = self else { return self }
        members[name] = nil
        return .object(members)
    }
}
