public import ApoxyAPI

/// How the generic store serves ClusterRoleBindings (`rbac.authorization.k8s.io/v1`).
public struct ClusterRoleBindingStrategy: ResourceStrategy {
    public typealias Object = ClusterRoleBinding

    /// Creates the strategy.
    public init() {}

    public func validate(_ object: ClusterRoleBinding) -> [FieldError] { object.validate() }

    public func validateUpdate(_ object: ClusterRoleBinding, old: ClusterRoleBinding) -> [FieldError] {
        object.validateUpdate(old: old)
    }

    public func nameErrors(_ name: String) -> [String] { RBAC.nameErrors(name) }

    public func specChanged(old: JSONValue, new: JSONValue) -> Bool {
        old["roleRef"] != new["roleRef"] || old["subjects"] != new["subjects"]
    }

    /// kube's columns: ROLE, and the wide-only USERS, GROUPS, SERVICEACCOUNTS.
    public var tableColumns: [TableColumn] {
        [
            TableColumn(name: "Role", type: "string", description: "Role is the role being referenced."),
            TableColumn(name: "Users", type: "string", description: "Users in the binding.", priority: 1),
            TableColumn(name: "Groups", type: "string", description: "Groups in the binding.", priority: 1),
            TableColumn(name: "ServiceAccounts", type: "string", description: "ServiceAccounts in the binding.", priority: 1),
        ]
    }

    public func tableCells(_ object: ClusterRoleBinding) -> [JSONValue] {
        func names(_ kind: String) -> JSONValue {
            .string(
                object.subjects.filter { $0.kind == kind }.map { kind == "ServiceAccount" ? "\($0.namespace)/\($0.name)" : $0.name }.joined(
                    separator: ", "))
        }
        return [.string("\(object.roleRef.kind)/\(object.roleRef.name)"), names("User"), names("Group"), names("ServiceAccount")]
    }

    public var selectableFields: [String] { [] }
}
