public import ApoxyAPI

/// How the generic store serves core `v1` Events: kube's validation, its field selectors (`involvedObject.*`,
/// `reason`, `type`, ... as `kubectl describe` asks for them) and its printed columns.
public struct EventStrategy: ResourceStrategy {
    public typealias Object = Event

    /// Creates the strategy.
    public init() {}

    public func validate(_ object: Event) -> [FieldError] { object.validate() }

    /// Events have no desired state (every write is an observation), so no generation.
    public var tracksGeneration: Bool { false }

    public var tableColumns: [TableColumn] { [] }

    public func tableCells(_ object: Event) -> [JSONValue] { [] }

    public var fullTableColumns: [TableColumn]? {
        [
            TableColumn(name: "Last Seen", type: "string", description: "The time the event was last seen."),
            TableColumn(name: "Type", type: "string", description: "Type of this event (Normal, Warning)."),
            TableColumn(name: "Reason", type: "string", description: "Why the event was generated."),
            TableColumn(name: "Object", type: "string", description: "The object this event is about."),
            TableColumn(name: "Subobject", type: "string", description: "The part of the object this event is about.", priority: 1),
            TableColumn(name: "Source", type: "string", description: "The component reporting this event.", priority: 1),
            TableColumn(name: "Message", type: "string", description: "A human-readable description of the status."),
            TableColumn(name: "First Seen", type: "string", description: "The time the event was first seen.", priority: 1),
            TableColumn(name: "Count", type: "string", description: "How many times the event has occurred.", priority: 1),
            TableColumn(name: "Name", type: "string", format: "name", description: "The event's name.", priority: 1),
        ]
    }

    /// kube's `printEvent`.
    public func fullTableRow(_ object: Event, now: Int64) -> [JSONValue] {
        func age(_ member: String?) -> String {
            guard let text = member, let time = RFC3339.parse(text) else { return "<unknown>" }
            return humanDuration(seconds: now - time)
        }
        let body = object.body
        let lastSeen: String
        if let observed = body["series"]?["lastObservedTime"]?.stringValue {
            lastSeen = age(observed)
        } else if body["lastTimestamp"]?.stringValue == nil {
            lastSeen = age(body["eventTime"]?.stringValue)
        } else {
            lastSeen = age(body["lastTimestamp"]?.stringValue)
        }
        let firstSeen =
            body["firstTimestamp"]?.stringValue == nil ? age(body["eventTime"]?.stringValue) : age(body["firstTimestamp"]?.stringValue)
        var source = object.string("reportingComponent")
        if let component = body["source"]?["component"]?.stringValue, !component.isEmpty {
            source = component
            if let host = body["source"]?["host"]?.stringValue, !host.isEmpty { source += ", " + host }
        } else if !object.string("reportingInstance").isEmpty {
            source += ", " + object.string("reportingInstance")
        }
        let count = body["series"]?["count"]?.integerValue ?? body["count"]?.integerValue ?? 1
        return [
            .string(lastSeen), .string(object.string("type")), .string(object.string("reason")),
            .string("\(object.involved("kind").lowercased())/\(object.involved("name"))"), .string(object.involved("fieldPath")),
            .string(source), .string(object.string("message")), .string(firstSeen), .string(String(count)), .string(object.metadata.name),
        ]
    }

    public var selectableFields: [String] {
        [
            "involvedObject.kind", "involvedObject.namespace", "involvedObject.name", "involvedObject.uid",
            "involvedObject.apiVersion", "involvedObject.resourceVersion", "involvedObject.fieldPath", "reason",
            "reportingComponent", "source", "type",
        ]
    }
}

/// How the generic store serves Namespaces: read-only (the server seeds them), printed with their phase.
public struct NamespaceStrategy: ResourceStrategy {
    public typealias Object = Namespace

    /// Creates the strategy.
    public init() {}

    public func validate(_ object: Namespace) -> [FieldError] { [] }

    public var tracksGeneration: Bool { false }

    public var tableColumns: [TableColumn] {
        [TableColumn(name: "Status", type: "string", description: "The phase of the namespace.")]
    }

    public func tableCells(_ object: Namespace) -> [JSONValue] { [.string(object.phase)] }

    public var selectableFields: [String] { ["status.phase"] }
}

/// How the generic store serves `events.k8s.io/v1` Events: the core Events' storage, converted member by member
/// (kube's one storage version), with the v1 rules for new writes and the same printed columns.
public struct EventV1Strategy: ResourceStrategy {
    public typealias Object = EventV1

    /// Creates the strategy.
    public init() {}

    public func validate(_ object: EventV1) -> [FieldError] { object.validate() }

    /// An update may leave the deprecated members kube itself set for core writers, so only new objects get the
    /// strict create rules; updates are checked as kube checks them for v1 (the reporter stays).
    public func validateUpdate(_ object: EventV1, old: EventV1) -> [FieldError] {
        object.validate().filter { !$0.field.hasPrefix("deprecated") }
    }

    public var tracksGeneration: Bool { false }

    public func toStorage(_ json: inout JSONValue) { EventV1.toCore(&json) }

    public func fromStorage(_ json: inout JSONValue) { EventV1.fromCore(&json) }

    public var tableColumns: [TableColumn] { [] }

    public func tableCells(_ object: EventV1) -> [JSONValue] { [] }

    public var fullTableColumns: [TableColumn]? { EventStrategy().fullTableColumns }

    public func fullTableRow(_ object: EventV1, now: Int64) -> [JSONValue] {
        var json = object.json
        EventV1.toCore(&json)
        return EventStrategy().fullTableRow(Event(json: json), now: now)
    }

    public var selectableFields: [String] {
        [
            "regarding.kind", "regarding.namespace", "regarding.name", "regarding.uid", "regarding.apiVersion",
            "regarding.resourceVersion", "regarding.fieldPath", "reason", "reportingController", "type",
        ]
    }
}
