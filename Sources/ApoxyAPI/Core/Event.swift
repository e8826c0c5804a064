/// An object kept as the JSON its schema checked, with typed metadata: for kube's own types whose members this
/// server stores but does not interpret.
public protocol JSONBackedObject: APIObject {
    /// The members other than `apiVersion`, `kind` and `metadata`.
    var body: JSONObject { get set }
    /// Creates the object from its metadata and other members.
    init(metadata: ObjectMeta, body: JSONObject)
}

extension JSONBackedObject {
    public init(json: JSONValue) {
        var members = json.objectValue ?? [:]
        for name in ["apiVersion", "kind", "metadata"] { members[name] = nil }
        self.init(metadata: ObjectMeta(json: json["metadata"] ?? .object([:])), body: members)
    }

    public var json: JSONValue {
        var object = body
        object["apiVersion"] = .string(Self.descriptor.apiVersion)
        object["kind"] = .string(Self.descriptor.kind)
        object["metadata"] = metadata.json
        return .object(object)
    }

    /// A top-level string member ("" when absent).
    public func string(_ member: String) -> String { body[member]?.stringValue ?? "" }
}

/// A core `v1` Event: a report of something that happened to an object (`involvedObject`), kept for the server's
/// event TTL. Typed where the server reads it (who it is about, when it was last seen); every other member is kept
/// as sent, as the schema checked it.
public struct Event: JSONBackedObject, Sendable {
    public var metadata: ObjectMeta
    public var body: JSONObject

    /// Creates an event from its members (other than `metadata`).
    public init(metadata: ObjectMeta, body: JSONObject) {
        self.metadata = metadata
        self.body = body
    }

    /// A member of `involvedObject` ("" when absent).
    public func involved(_ member: String) -> String { body["involvedObject"]?[member]?.stringValue ?? "" }

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

/// An `events.k8s.io/v1` Event: the same objects as core `v1` Events (one storage, as in kube), with kube's
/// newer names (`regarding`, `note`, `reportingController`, `deprecated*`).
public struct EventV1: JSONBackedObject, Sendable {
    public var metadata: ObjectMeta
    public var body: JSONObject

    /// Creates an event from its members (other than `metadata`).
    public init(metadata: ObjectMeta, body: JSONObject) {
        self.metadata = metadata
        self.body = body
    }

    /// The members that differ between the two versions: (events.k8s.io/v1, core v1), as kube's conversion maps them.
    public static let renamedMembers = [
        ("regarding", "involvedObject"), ("note", "message"), ("reportingController", "reportingComponent"),
        ("deprecatedSource", "source"), ("deprecatedFirstTimestamp", "firstTimestamp"), ("deprecatedLastTimestamp", "lastTimestamp"),
        ("deprecatedCount", "count"),
    ]

    /// The core `v1` form of an `events.k8s.io/v1` document.
    public static func toCore(_ json: inout JSONValue) {
        rename(&json, from: \.0, to: \.1, apiVersion: Event.descriptor.apiVersion)
    }

    /// The `events.k8s.io/v1` form of a core `v1` document.
    public static func fromCore(_ json: inout JSONValue) {
        rename(&json, from: \.1, to: \.0, apiVersion: descriptor.apiVersion)
    }

    static func rename(
        _ json: inout JSONValue, from: KeyPath<(String, String), String>, to: KeyPath<(String, String), String>, apiVersion: String
    ) {
        guard case .object(var members) = json else { return }
        var renamed = JSONObject()
        for pair in renamedMembers {
            if let value = members.removeValue(forKey: pair[keyPath: from]) { renamed[pair[keyPath: to]] = value }
        }
        members.merge(renamed) { _, new in new }
        if members["apiVersion"] != nil { members["apiVersion"] = .string(apiVersion) }
        json = .object(members)
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
