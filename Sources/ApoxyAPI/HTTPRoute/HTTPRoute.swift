/// An HTTPRoute (`gateway.apoxy.dev/v1`): a documented subset of Gateway API's HTTPRoute that sends matching
/// requests to Backends.
public struct HTTPRoute: APIObject, Hashable {
    public var metadata: ObjectMeta
    public var spec: HTTPRouteSpec
    public var status: HTTPRouteStatus

    /// Creates an HTTPRoute.
    public init(metadata: ObjectMeta = ObjectMeta(), spec: HTTPRouteSpec = HTTPRouteSpec(), status: HTTPRouteStatus = HTTPRouteStatus()) {
        self.metadata = metadata
        self.spec = spec
        self.status = status
    }

    public init(json: JSONValue) {
        metadata = ObjectMeta(json: json["metadata"] ?? .object([:]))
        spec = HTTPRouteSpec(json: json["spec"] ?? .object([:]))
        status = HTTPRouteStatus(json: json["status"] ?? .object([:]))
    }

    public var json: JSONValue {
        var object: JSONObject = [
            "apiVersion": .string(Self.descriptor.apiVersion), "kind": .string(Self.descriptor.kind),
            "metadata": metadata.json, "spec": spec.json,
        ]
        if !status.parents.isEmpty { object["status"] = status.json }
        return .object(object)
    }
}

/// HTTPRouteSpec: the hostnames a route serves and its rules.
public struct HTTPRouteSpec: Sendable, Hashable {
    /// Host header values (`app.example.com`, `*.example.com`); empty matches every host.
    public var hostnames: [String]
    /// Matched in order of Gateway API's precedence by the control plane, not by position.
    public var rules: [HTTPRouteRule]

    /// Creates a spec.
    public init(hostnames: [String] = [], rules: [HTTPRouteRule] = []) {
        self.hostnames = hostnames
        self.rules = rules
    }

    init(json: JSONValue) {
        hostnames = (json["hostnames"]?.arrayValue ?? []).compactMap(\.stringValue)
        rules = (json["rules"]?.arrayValue ?? []).map(HTTPRouteRule.init(json:))
    }

    var json: JSONValue {
        var m: JSONObject = ["rules": .array(rules.map(\.json))]
        if !hostnames.isEmpty { m["hostnames"] = .array(hostnames.map { .string($0) }) }
        return .object(m)
    }
}

/// One rule: requests matching any of `matches` go to `backendRefs`, split by weight.
public struct HTTPRouteRule: Sendable, Hashable {
    /// Any one matching suffices; the server fills `[{path: {type: PathPrefix, value: "/"}}]` when unset.
    public var matches: [HTTPRouteMatch]
    public var backendRefs: [HTTPBackendRef]
    public var timeouts: HTTPRouteTimeouts?

    /// Creates a rule; the default match is every path.
    public init(matches: [HTTPRouteMatch] = [HTTPRouteMatch()], backendRefs: [HTTPBackendRef] = [], timeouts: HTTPRouteTimeouts? = nil) {
        self.matches = matches
        self.backendRefs = backendRefs
        self.timeouts = timeouts
    }

    init(json: JSONValue) {
        matches = (json["matches"]?.arrayValue ?? []).map(HTTPRouteMatch.init(json:))
        backendRefs = (json["backendRefs"]?.arrayValue ?? []).map(HTTPBackendRef.init(json:))
        timeouts = json["timeouts"].map(HTTPRouteTimeouts.init(json:))
    }

    var json: JSONValue {
        var m: JSONObject = ["matches": .array(matches.map(\.json)), "backendRefs": .array(backendRefs.map(\.json))]
        if let timeouts { m["timeouts"] = timeouts.json }
        return .object(m)
    }
}

/// One match: every condition given must hold.
public struct HTTPRouteMatch: Sendable, Hashable {
    /// Always present once defaulted (PathPrefix `/`).
    public var path: HTTPPathMatch
    /// Exact header matches; all must hold.
    public var headers: [HTTPHeaderMatch]
    /// An HTTP method (`GET`, ...), or nil for any.
    public var method: String?

    /// Creates a match.
    public init(path: HTTPPathMatch = HTTPPathMatch(), headers: [HTTPHeaderMatch] = [], method: String? = nil) {
        self.path = path
        self.headers = headers
        self.method = method
    }

    init(json: JSONValue) {
        path = json["path"].map(HTTPPathMatch.init(json:)) ?? HTTPPathMatch()
        headers = (json["headers"]?.arrayValue ?? []).map(HTTPHeaderMatch.init(json:))
        method = json["method"]?.stringValue
    }

    var json: JSONValue {
        var m: JSONObject = ["path": path.json]
        if !headers.isEmpty { m["headers"] = .array(headers.map(\.json)) }
        if let method { m["method"] = .string(method) }
        return .object(m)
    }
}

/// A path match.
public struct HTTPPathMatch: Sendable, Hashable {
    /// How `value` is compared with the request path.
    public enum MatchType: String, Sendable, Hashable, CaseIterable {
        /// Element-wise prefix: `/foo` matches `/foo` and `/foo/bar`, not `/foobar`.
        case pathPrefix = "PathPrefix"
        case exact = "Exact"
    }

    public var type: MatchType
    /// Starts with `/`.
    public var value: String

    /// Creates a path match; the default matches every path.
    public init(type: MatchType = .pathPrefix, value: String = "/") {
        self.type = type
        self.value = value
    }

    init(json: JSONValue) {
        // The schema admits only the enum's values; anything else can only come from unchecked input.
        type = json["type"]?.stringValue.flatMap(MatchType.init(rawValue:)) ?? .pathPrefix
        value = json["value"]?.stringValue ?? "/"
    }

    var json: JSONValue { ["type": .string(type.rawValue), "value": .string(value)] }
}

/// An exact, case-insensitive-name header match.
public struct HTTPHeaderMatch: Sendable, Hashable {
    /// How `value` is compared; only Exact is supported.
    public enum MatchType: String, Sendable, Hashable, CaseIterable {
        case exact = "Exact"
    }

    public var type: MatchType
    /// An RFC 7230 token; compared case-insensitively.
    public var name: String
    public var value: String

    /// Creates a header match.
    public init(type: MatchType = .exact, name: String, value: String) {
        self.type = type
        self.name = name
        self.value = value
    }

    init(json: JSONValue) {
        type = json["type"]?.stringValue.flatMap(MatchType.init(rawValue:)) ?? .exact
        name = json["name"]?.stringValue ?? ""
        value = json["value"]?.stringValue ?? ""
    }

    var json: JSONValue { ["type": .string(type.rawValue), "name": .string(name), "value": .string(value)] }
}

/// A reference to a Backend that receives a share of the rule's traffic.
public struct HTTPBackendRef: Sendable, Hashable {
    /// Always `core.apoxy.dev`.
    public var group: String
    /// Always `Backend`.
    public var kind: String
    /// The Backend's name.
    public var name: String
    /// The upstream port; a Backend has none of its own, so non-dynamic-proxy Backends need one.
    public var port: Int?
    /// The proportion of the rule's requests (0 sends none).
    public var weight: Int

    /// Creates a reference to the named Backend.
    public init(group: String = "core.apoxy.dev", kind: String = "Backend", name: String, port: Int? = nil, weight: Int = 1) {
        self.group = group
        self.kind = kind
        self.name = name
        self.port = port
        self.weight = weight
    }

    init(json: JSONValue) {
        group = json["group"]?.stringValue ?? "core.apoxy.dev"
        kind = json["kind"]?.stringValue ?? "Backend"
        name = json["name"]?.stringValue ?? ""
        port = json["port"]?.integerValue.map { Int($0) }
        weight = json["weight"]?.integerValue.map { Int($0) } ?? 1
    }

    var json: JSONValue {
        var m: JSONObject = [
            "group": .string(group), "kind": .string(kind), "name": .string(name), "weight": .integer(Int64(weight)),
        ]
        if let port { m["port"] = .integer(Int64(port)) }
        return .object(m)
    }
}

/// Timeouts of one rule.
public struct HTTPRouteTimeouts: Sendable, Hashable {
    /// A Go duration in canonical form (`10s`, `1m30s`); `0s` disables the timeout.
    public var request: String?

    /// Creates timeouts.
    public init(request: String? = nil) { self.request = request }

    init(json: JSONValue) { request = json["request"]?.stringValue }

    var json: JSONValue {
        var m = JSONObject()
        if let request { m["request"] = .string(request) }
        return .object(m)
    }

    /// `request` parsed, or nil when unset or unparseable (validation rejects the latter).
    public var requestDuration: GoDuration? { request.flatMap { try? GoDuration(parsing: $0) } }
}

/// HTTPRouteStatus: what each controller observed per parent, written through `/status`.
public struct HTTPRouteStatus: Sendable, Hashable {
    public var parents: [RouteParentStatus]

    /// Creates a status.
    public init(parents: [RouteParentStatus] = []) { self.parents = parents }

    init(json: JSONValue) {
        parents = (json["parents"]?.arrayValue ?? []).map(RouteParentStatus.init(json:))
    }

    var json: JSONValue { .object(["parents": .array(parents.map(\.json))]) }
}

/// The status of a route with respect to one parent (a Proxy).
public struct RouteParentStatus: Sendable, Hashable {
    public var parentRef: ParentReference
    /// The controller that wrote this entry (`apoxy.dev/backplane`).
    public var controllerName: String
    /// Accepted, ResolvedRefs, ...: map-keyed by type.
    public var conditions: [Condition]

    /// Creates a parent status.
    public init(parentRef: ParentReference, controllerName: String, conditions: [Condition] = []) {
        self.parentRef = parentRef
        self.controllerName = controllerName
        self.conditions = conditions
    }

    init(json: JSONValue) {
        parentRef = ParentReference(json: json["parentRef"] ?? .object([:]))
        controllerName = json["controllerName"]?.stringValue ?? ""
        conditions = (json["conditions"]?.arrayValue ?? []).map(Condition.init(json:))
    }

    var json: JSONValue {
        ["parentRef": parentRef.json, "controllerName": .string(controllerName), "conditions": .array(conditions.map(\.json))]
    }
}

/// A reference to the parent a status entry is about.
public struct ParentReference: Sendable, Hashable {
    public var group: String
    public var kind: String
    public var name: String

    /// Creates a reference; the defaults name a Proxy.
    public init(group: String = "core.apoxy.dev", kind: String = "Proxy", name: String) {
        self.group = group
        self.kind = kind
        self.name = name
    }

    init(json: JSONValue) {
        group = json["group"]?.stringValue ?? "core.apoxy.dev"
        kind = json["kind"]?.stringValue ?? "Proxy"
        name = json["name"]?.stringValue ?? ""
    }

    var json: JSONValue { ["group": .string(group), "kind": .string(kind), "name": .string(name)] }
}
