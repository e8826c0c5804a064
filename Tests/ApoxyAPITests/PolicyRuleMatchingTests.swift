import ApoxyAPI
import Testing

/// RBAC rule evaluation as kube's `RuleAllows`: verbs, API groups, resources and subresources, names,
/// non-resource URLs, wildcards; subjects.
@Suite("RBAC rule matching") struct PolicyRuleMatchingTests {
    static func get(
        _ resource: String, subresource: String = "", name: String = "", group: String = "core.apoxy.dev", verb: String = "get"
    ) -> AccessAttributes {
        .resource(verb: verb, apiGroup: group, resource: resource, subresource: subresource, name: name)
    }

    @Test func verbsGroupsAndResources() {
        let reader = PolicyRule(verbs: ["get", "list", "watch"], apiGroups: ["core.apoxy.dev"], resources: ["backends"])
        #expect(reader.allows(Self.get("backends", name: "web")))
        #expect(reader.allows(Self.get("backends", verb: "list")))
        #expect(reader.allows(Self.get("backends", verb: "watch")))
        for verb in ["create", "update", "patch", "delete", "deletecollection"] {
            #expect(!reader.allows(Self.get("backends", verb: verb)), "\(verb)")
        }
        #expect(!reader.allows(Self.get("httproutes")))
        #expect(!reader.allows(Self.get("backends", group: "gateway.apoxy.dev")))
        #expect(!reader.allows(Self.get("backends", group: "")))
        // The main resource's rule does not cover its subresources.
        #expect(!reader.allows(Self.get("backends", subresource: "status", name: "web")))
    }

    @Test func subresources() {
        let status = PolicyRule(verbs: ["update", "patch"], apiGroups: ["core.apoxy.dev"], resources: ["backends/status"])
        #expect(status.allows(Self.get("backends", subresource: "status", name: "web", verb: "patch")))
        #expect(!status.allows(Self.get("backends", name: "web", verb: "patch")))
        #expect(!status.allows(Self.get("httproutes", subresource: "status", name: "r", verb: "patch")))
        let anyStatus = PolicyRule(verbs: ["patch"], apiGroups: ["*"], resources: ["*/status"])
        #expect(anyStatus.allows(Self.get("httproutes", subresource: "status", name: "r", group: "gateway.apoxy.dev", verb: "patch")))
        #expect(!anyStatus.allows(Self.get("httproutes", name: "r", verb: "patch")))
        #expect(!anyStatus.allows(Self.get("backends", subresource: "scale", verb: "patch")))
        // `*` covers subresources too.
        #expect(
            PolicyRule(verbs: ["*"], apiGroups: ["*"], resources: ["*"]).allows(Self.get("backends", subresource: "status", verb: "update"))
        )
    }

    @Test func wildcardsAndResourceNames() {
        let all = PolicyRule(verbs: ["*"], apiGroups: ["*"], resources: ["*"])
        #expect(all.allows(Self.get("backends", verb: "deletecollection")))
        #expect(all.allows(Self.get("clusterroles", group: "rbac.authorization.k8s.io", verb: "create")))
        #expect(!all.allows(.nonResource(verb: "get", path: "/healthz")))
        let named = PolicyRule(
            verbs: ["get", "delete"], apiGroups: ["core.apoxy.dev"], resources: ["backends"], resourceNames: ["web", "api"])
        #expect(named.allows(Self.get("backends", name: "web")))
        #expect(named.allows(Self.get("backends", name: "api", verb: "delete")))
        #expect(!named.allows(Self.get("backends", name: "other")))
        // A list has no name, so a rule limited to names never allows it (as kube).
        #expect(!named.allows(Self.get("backends", verb: "list")))
    }

    @Test func nonResourceURLs() {
        let health = PolicyRule(verbs: ["get"], nonResourceURLs: ["/healthz", "/apis/*", "/openapi**"])
        #expect(health.allows(.nonResource(verb: "get", path: "/healthz")))
        #expect(!health.allows(.nonResource(verb: "post", path: "/healthz")))
        #expect(!health.allows(.nonResource(verb: "get", path: "/healthz/ping")))
        #expect(health.allows(.nonResource(verb: "get", path: "/apis/core.apoxy.dev")))
        #expect(!health.allows(.nonResource(verb: "get", path: "/apis")))
        #expect(health.allows(.nonResource(verb: "get", path: "/openapi/v3")))
        #expect(!health.allows(Self.get("backends")))
        #expect(PolicyRule(verbs: ["*"], nonResourceURLs: ["*"]).allows(.nonResource(verb: "delete", path: "/anything")))
    }

    @Test func subjects() {
        #expect(Subject(kind: "User", name: "alice").applies(toUser: "alice", groups: []))
        #expect(!Subject(kind: "User", name: "alice").applies(toUser: "bob", groups: ["alice"]))
        #expect(Subject(kind: "Group", name: "devs").applies(toUser: "bob", groups: ["devs"]))
        #expect(!Subject(kind: "Group", name: "devs").applies(toUser: "devs", groups: []))
        #expect(
            Subject(kind: "ServiceAccount", name: "cp", namespace: "apoxy").applies(toUser: "system:serviceaccount:apoxy:cp", groups: []))
    }

    @Test func validationAsKube() {
        let role = ClusterRole(rules: [
            PolicyRule(verbs: []), PolicyRule(verbs: ["get"], apiGroups: [""], nonResourceURLs: ["/x"]),
        ])
        #expect(
            role.validate().map(\.description) == [
                "rules[0].verbs: Required value: verbs must contain at least one value",
                "rules[0].apiGroups: Required value: resource rules must supply at least one api group",
                "rules[0].resources: Required value: resource rules must supply at least one resource",
                #"rules[1].nonResourceURLs: Invalid value: ["/x"]: rules cannot apply to both regular resources and non-resource URLs"#,
            ])
        let binding = ClusterRoleBinding(roleRef: RoleRef(name: "r"), subjects: [Subject(kind: "User", name: "u")])
        #expect(
            binding.validate().map(\.description) == [
                #"subjects[0].apiGroup: Unsupported value: "": supported values: "rbac.authorization.k8s.io""#
            ])
        let moved = ClusterRoleBinding(roleRef: RoleRef(name: "other"))
        #expect(moved.validateUpdate(old: ClusterRoleBinding(roleRef: RoleRef(name: "r"))).map(\.field) == ["roleRef"])
        #expect(RBAC.nameErrors("system:public-info-viewer").isEmpty)
        #expect(RBAC.nameErrors("a/b") == ["may not contain '/'"])
    }

    @Test func forbiddenMessages() {
        #expect(
            StatusError.forbidden(user: "u", Self.get("backends", name: "x", verb: "delete")).message
                == #"backends.core.apoxy.dev "x" is forbidden: User "u" cannot delete resource "backends" in API group "core.apoxy.dev" at the cluster scope"#
        )
        #expect(
            StatusError.forbidden(user: "u", Self.get("backends", verb: "list")).message
                == #"backends.core.apoxy.dev is forbidden: User "u" cannot list resource "backends" in API group "core.apoxy.dev" at the cluster scope"#
        )
        #expect(
            StatusError.forbidden(user: "u", Self.get("backends", subresource: "status", name: "x", verb: "patch")).message
                == #"backends.core.apoxy.dev "x" is forbidden: User "u" cannot patch resource "backends/status" in API group "core.apoxy.dev" at the cluster scope"#
        )
        #expect(
            StatusError.forbidden(user: "system:anonymous", .nonResource(verb: "get", path: "/apis")).message
                == #"forbidden: User "system:anonymous" cannot get path "/apis""#)
    }
}
