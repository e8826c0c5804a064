public import ApoxyAPI

/// How the generic store serves ClusterRoles (`rbac.authorization.k8s.io/v1`).
public struct ClusterRoleStrategy: ResourceStrategy {
    public typealias Object = ClusterRole

    /// Creates the strategy.
    public init() {}

    public func validate(_ object: ClusterRole) -> [FieldError] { object.validate() }

    public func nameErrors(_ name: String) -> [String] { RBAC.nameErrors(name) }

    /// A ClusterRole has no spec: its rules are what a change changes.
    public func specChanged(old: JSONValue, new: JSONValue) -> Bool { old["rules"] != new["rules"] }

    public var tableColumns: [TableColumn] { [] }

    public func tableCells(_ object: ClusterRole) -> [JSONValue] { [] }

    public var selectableFields: [String] { [] }
}
