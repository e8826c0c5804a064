/// A ClusterRoleBinding (`rbac.authorization.k8s.io/v1`): grants the rules of one ClusterRole to subjects.
public struct ClusterRoleBinding: APIObject, Hashable {
    public var metadata: ObjectMeta
    public var roleRef: RoleRef
    public var subjects: [Subject]

    /// Creates a binding.
    public init(metadata: ObjectMeta = ObjectMeta(), roleRef: RoleRef, subjects: [Subject] = []) {
        self.metadata = metadata
        self.roleRef = roleRef
        self.subjects = subjects
    }

    public init(json: JSONValue) {
        metadata = ObjectMeta(json: json["metadata"] ?? .object([:]))
        let ref = json["roleRef"] ?? .object([:])
        roleRef = RoleRef(
            apiGroup: ref["apiGroup"]?.stringValue ?? "", kind: ref["kind"]?.stringValue ?? "", name: ref["name"]?.stringValue ?? "")
        subjects = (json["subjects"]?.arrayValue ?? []).map { subject in
            Subject(
                kind: subject["kind"]?.stringValue ?? "", name: subject["name"]?.stringValue ?? "",
                apiGroup: subject["apiGroup"]?.stringValue ?? "", namespace: subject["namespace"]?.stringValue ?? "")
        }
    }

    public var json: JSONValue {
        var object: JSONObject = [
            "apiVersion": .string(Self.descriptor.apiVersion), "kind": .string(Self.descriptor.kind), "metadata": metadata.json,
            "roleRef": ["apiGroup": .string(roleRef.apiGroup), "kind": .string(roleRef.kind), "name": .string(roleRef.name)],
        ]
        if !subjects.isEmpty {
            object["subjects"] = .array(
                subjects.map { subject in
                    var m: JSONObject = ["kind": .string(subject.kind), "name": .string(subject.name)]
                    if !subject.apiGroup.isEmpty { m["apiGroup"] = .string(subject.apiGroup) }
                    if !subject.namespace.isEmpty { m["namespace"] = .string(subject.namespace) }
                    return .object(m)
                })
        }
        return .object(object)
    }
}

/// The role a binding grants.
public struct RoleRef: Sendable, Hashable {
    public var apiGroup: String
    public var kind: String
    public var name: String

    /// Creates a reference.
    public init(apiGroup: String = RBAC.group, kind: String = "ClusterRole", name: String) {
        self.apiGroup = apiGroup
        self.kind = kind
        self.name = name
    }
}

/// Who a binding grants its role to: a `User`, a `Group`, or a `ServiceAccount` (by namespace and name).
public struct Subject: Sendable, Hashable {
    public var kind: String
    public var name: String
    public var apiGroup: String
    public var namespace: String

    /// Creates a subject.
    public init(kind: String, name: String, apiGroup: String = "", namespace: String = "") {
        self.kind = kind
        self.name = name
        self.apiGroup = apiGroup
        self.namespace = namespace
    }
}

/// Names shared by the RBAC types.
public enum RBAC {
    /// `rbac.authorization.k8s.io`.
    public static let group = "rbac.authorization.k8s.io"
}
