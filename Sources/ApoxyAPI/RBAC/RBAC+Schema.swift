extension PolicyRule {
    static func stringList(_ description: String) -> Schema {
        .array(description, of: .string(), extensions: ["x-kubernetes-list-type": "atomic"])
    }

    static let schema = Schema.object(
        "PolicyRule holds information that describes a policy rule, but does not contain information about who the rule applies to or which namespace the rule applies to.",
        [
            (
                "apiGroups",
                stringList(
                    "APIGroups is the name of the APIGroup that contains the resources. If multiple API groups are specified, any action requested against one of the enumerated resources in any API group will be allowed. \"\" represents the core API group and \"*\" represents all API groups."
                )
            ),
            (
                "nonResourceURLs",
                stringList(
                    "NonResourceURLs is a set of partial urls that a user should have access to. *s are allowed, but only as the full, final step in the path. Rules can either apply to API resources (such as \"pods\" or \"secrets\") or non-resource URL paths (such as \"/api\"), but not both."
                )
            ),
            (
                "resourceNames",
                stringList(
                    "ResourceNames is an optional white list of names that the rule applies to.  An empty set means that everything is allowed."
                )
            ),
            ("resources", stringList("Resources is a list of resources this rule applies to. '*' represents all resources.")),
            (
                "verbs",
                stringList("Verbs is a list of Verbs that apply to ALL the ResourceKinds contained in this rule. '*' represents all verbs.")
            ),
        ],
        required: ["verbs"]
    )
}

extension ClusterRole {
    public static let descriptor = ResourceDescriptor(
        group: RBAC.group, version: "v1", kind: "ClusterRole", listKind: "ClusterRoleList", plural: "clusterroles",
        singular: "clusterrole", shortNames: [],
        schema: .object(
            "ClusterRole is a cluster level, logical grouping of PolicyRules that can be referenced as a unit by a RoleBinding or ClusterRoleBinding.",
            [
                ("apiVersion", .string("APIVersion defines the versioned schema of this representation of an object.")),
                ("kind", .string("Kind is a string value representing the REST resource this object represents.")),
                ("metadata", ObjectMeta.schema),
                (
                    "rules",
                    .array(
                        "Rules holds all the PolicyRules for this ClusterRole",
                        of: PolicyRule.schema, extensions: ["x-kubernetes-list-type": "atomic"])
                ),
            ],
            component: "io.k8s.authorization.rbac.v1.ClusterRole",
            unsupported: ["aggregationRule": "aggregationRule is not supported: this server evaluates each ClusterRole's own rules only"]
        ),
        description:
            "ClusterRole is a cluster level, logical grouping of PolicyRules that can be referenced as a unit by a RoleBinding or ClusterRoleBinding.",
        hasStatusSubresource: false
    )
}

extension ClusterRoleBinding {
    public static let descriptor = ResourceDescriptor(
        group: RBAC.group, version: "v1", kind: "ClusterRoleBinding", listKind: "ClusterRoleBindingList",
        plural: "clusterrolebindings", singular: "clusterrolebinding", shortNames: [],
        schema: .object(
            "ClusterRoleBinding references a ClusterRole, but not contain it.  It can reference a ClusterRole in the global namespace, and adds who information via Subject.",
            [
                ("apiVersion", .string("APIVersion defines the versioned schema of this representation of an object.")),
                ("kind", .string("Kind is a string value representing the REST resource this object represents.")),
                ("metadata", ObjectMeta.schema),
                (
                    "roleRef",
                    .object(
                        "RoleRef contains information that points to the role being used",
                        [
                            ("apiGroup", .string("APIGroup is the group for the resource being referenced")),
                            ("kind", .string("Kind is the type of resource being referenced")),
                            ("name", .string("Name is the name of resource being referenced")),
                        ],
                        required: ["apiGroup", "kind", "name"],
                        extensions: ["x-kubernetes-map-type": "atomic"])
                ),
                (
                    "subjects",
                    .array(
                        "Subjects holds references to the objects the role applies to.",
                        of: .object(
                            "Subject contains a reference to the object or user identities a role binding applies to.  This can either hold a direct API object reference, or a value for non-objects such as user and group names.",
                            [
                                (
                                    "apiGroup",
                                    .string(
                                        "APIGroup holds the API group of the referenced subject. Defaults to \"\" for ServiceAccount subjects. Defaults to \"rbac.authorization.k8s.io\" for User and Group subjects."
                                    )
                                ),
                                (
                                    "kind",
                                    .string(
                                        "Kind of object being referenced. Values defined by this API group are \"User\", \"Group\", and \"ServiceAccount\"."
                                    )
                                ),
                                ("name", .string("Name of the object being referenced.")),
                                ("namespace", .string("Namespace of the referenced object.")),
                            ],
                            required: ["kind", "name"],
                            extensions: ["x-kubernetes-map-type": "atomic"]),
                        extensions: ["x-kubernetes-list-type": "atomic"])
                ),
            ],
            required: ["roleRef"],
            component: "io.k8s.authorization.rbac.v1.ClusterRoleBinding"
        ),
        description:
            "ClusterRoleBinding references a ClusterRole, but not contain it.  It can reference a ClusterRole in the global namespace, and adds who information via Subject.",
        hasStatusSubresource: false
    )
}
