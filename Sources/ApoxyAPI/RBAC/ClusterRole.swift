/// A ClusterRole (`rbac.authorization.k8s.io/v1`): a named set of rules, granted to subjects by ClusterRoleBindings.
public struct ClusterRole: APIObject, Hashable {
    public var metadata: ObjectMeta
    public var rules: [PolicyRule]

    /// Creates a ClusterRole.
    public init(metadata: ObjectMeta = ObjectMeta(), rules: [PolicyRule] = []) {
        self.metadata = metadata
        self.rules = rules
    }

    public init(json: JSONValue) {
        metadata = ObjectMeta(json: json["metadata"] ?? .object([:]))
        rules = (json["rules"]?.arrayValue ?? []).map(PolicyRule.init(json:))
    }

    public var json: JSONValue {
        var object: JSONObject = [
            "apiVersion": .string(Self.descriptor.apiVersion), "kind": .string(Self.descriptor.kind), "metadata": metadata.json,
        ]
        if !rules.isEmpty { object["rules"] = .array(rules.map(\.json)) }
        return .object(object)
    }
}

/// One RBAC rule: the verbs it allows on resources of API groups (optionally only some names), or on
/// non-resource URLs. `*` matches anything in each list.
public struct PolicyRule: Sendable, Hashable {
    public var verbs: [String]
    public var apiGroups: [String]
    /// Resources, `resource/subresource` or `*/subresource`.
    public var resources: [String]
    /// Empty: every name.
    public var resourceNames: [String]
    /// Paths, optionally ending in `*` (a prefix).
    public var nonResourceURLs: [String]

    /// Creates a rule.
    public init(
        verbs: [String], apiGroups: [String] = [], resources: [String] = [], resourceNames: [String] = [],
        nonResourceURLs: [String] = []
    ) {
        self.verbs = verbs
        self.apiGroups = apiGroups
        self.resources = resources
        self.resourceNames = resourceNames
        self.nonResourceURLs = nonResourceURLs
    }

    init(json: JSONValue) {
        func strings(_ name: String) -> [String] { (json[name]?.arrayValue ?? []).compactMap(\.stringValue) }
        self.init(
            verbs: strings("verbs"), apiGroups: strings("apiGroups"), resources: strings("resources"),
            resourceNames: strings("resourceNames"), nonResourceURLs: strings("nonResourceURLs"))
    }

    var json: JSONValue {
        var m: JSONObject = ["verbs": .array(verbs.map { .string($0) })]
        for (name, values) in [
            ("apiGroups", apiGroups), ("resources", resources), ("resourceNames", resourceNames), ("nonResourceURLs", nonResourceURLs),
        ]
        where !values.isEmpty {
            m[name] = .array(values.map { .string($0) })
        }
        return .object(m)
    }
}
