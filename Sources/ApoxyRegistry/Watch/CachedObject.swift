public import ApoxyAPI

/// One object as the watch cache holds it: the serialisation clients receive plus what selectors read. The cache
/// keeps no decoded model, because a decoded object (its metadata strings, managedFields tree and spec) takes
/// several times the memory of its JSON; the few paths that need the model decode it on demand. A class, so that
/// lists, events and watchers share one reference instead of retaining each field.
public final class CachedObject: Sendable {
    /// Where the object is cached and stored after its resource's key prefix: `name`, or `namespace/name`.
    public let path: String
    /// `metadata.name`.
    public var name: String {
        guard let slash = path.lastIndex(of: "/") else { return path }
        return String(path[path.index(after: slash)...])
    }
    /// `metadata.namespace` ("" for cluster-scoped objects).
    public var namespace: String {
        guard let slash = path.lastIndex(of: "/") else { return "" }
        return String(path[..<slash])
    }
    /// The revision of the object's last write (its `metadata.resourceVersion`).
    public let revision: Int64
    /// The object serialised, with `metadata.resourceVersion` set.
    public let json: [UInt8]
    /// `metadata.labels`, for label selectors.
    public let labels: [String: String]
    /// Values of the resource's selectable fields, as `SelectableFields.values(in:)` returns them.
    public let fieldValues: [String]

    /// Reads a stored object, stamping `revision` as its resourceVersion; nil if the bytes are not a JSON object.
    init?(
        stored bytes: [UInt8], path: String, revision: Int64, selectableFields: SelectableFields,
        convert: (@Sendable (inout JSONValue) -> Void)? = nil
    ) {
        guard var document = try? JSONValue.parse(bytes).value else { return nil }
        convert?(&document)
        guard case .object(var members) = document else { return nil }
        var metadata = members["metadata"]?.objectValue ?? [:]
        metadata["resourceVersion"] = .string(String(revision))
        var labels: [String: String] = [:]
        if let stored = metadata["labels"]?.objectValue {
            labels.reserveCapacity(stored.count)
            for (key, value) in stored { if let text = value.stringValue { labels[key] = text } }
        }
        members["metadata"] = .object(metadata)
        document = .object(members)
        self.path = path
        self.revision = revision
        self.json = document.serialized()
        self.labels = labels
        self.fieldValues = selectableFields.values(in: document)
    }

    /// The object decoded into its typed model.
    public func decoded<Object: APIObject>(as type: Object.Type = Object.self) -> Object {
        Self.decode(json)
    }

    /// Decodes a cached serialisation into its typed model.
    public static func decode<Object: APIObject>(_ json: [UInt8]) -> Object {
        // The bytes are our own serialisation of a parsed document, so they always parse again.
        Object(json: (try? JSONValue.parse(json).value) ?? .object([:]))
    }
}
