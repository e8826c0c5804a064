/// A core `v1` Event: a report of something that happened to an object (`involvedObject`), kept for the server's
/// event TTL. Typed where the server reads it (who it is about, when it was last seen); every other member is kept
/// as sent, as the schema checked it.
public struct Event: APIObject, Sendable {
    public var metadata: ObjectMeta
    /// The members other than `apiVersion`, `kind` and `metadata`.
    public var body: [String: JSONValue]

    /// Creates an event from its members (other than `metadata`).
    public init(metadata: ObjectMeta, body: [String: JSONValue]) {
        self.metadata = metadata
        self.body = body
    }

    public init(json: JSONValue) {
        metadata = ObjectMeta(json: json["metadata"] ?? .object([:]))
        var members = json.objectValue ?? [:]
        for name in ["apiVersion", "kind", "metadata"] { members[name] = nil }
        body = members
    }

    public var json: JSONValue {
        var object = body
        object["apiVersion"] = .string(Self.descriptor.apiVersion)
        object["kind"] = .string(Self.descriptor.kind)
        object["metadata"] = metadata.json
        return .object(object)
    }

    /// A member of `involvedObject` ("" when absent).
    public func involved(_ member: String) -> String { body["involvedObject"]?[member]?.stringValue ?? "" }

    /// A top-level string member ("" when absent).
    public func string(_ member: String) -> String { body[member]?.stringValue ?? "" }

    /// When the event was last seen, in seconds since the epoch: the latest of `lastTimestamp`, `eventTime`,
    /// `series.lastObservedTime` and the creation time.
    public var lastSeen: Int64? {
        let times = [
            body["lastTimestamp"]?.stringValue, body["eventTime"]?.stringValue, body["series"]?["lastObservedTime"]?.stringValue,
            body["firstTimestamp"]?.stringValue,
        ]
        .compactMap { $0.flatMap(RFC3339.parse) }
        return (times + [metadata.creationTimestamp].compactMap { $0 }).max()
    }
}

/// A core `v1` Namespace. This server serves a fixed set (`default`), read-only, so that clients that look
/// namespaces up (event recorders, operator frameworks) find the one cluster-scoped objects' Events live in.
public struct Namespace: APIObject, Sendable, Hashable {
    public var metadata: ObjectMeta
    /// `status.phase`: `Active`.
    public var phase: String

    /// The namespace Events about cluster-scoped objects are recorded in, as kube does.
    public static let `default` = "default"

    /// Creates a namespace.
    public init(metadata: ObjectMeta, phase: String = "Active") {
        self.metadata = metadata
        self.phase = phase
    }

    public init(json: JSONValue) {
        metadata = ObjectMeta(json: json["metadata"] ?? .object([:]))
        phase = json["status"]?["phase"]?.stringValue ?? "Active"
    }

    public var json: JSONValue {
        [
            "apiVersion": .string(Self.descriptor.apiVersion), "kind": .string(Self.descriptor.kind), "metadata": metadata.json,
            "spec": ["finalizers": ["kubernetes"]], "status": ["phase": .string(phase)],
        ]
    }
}
