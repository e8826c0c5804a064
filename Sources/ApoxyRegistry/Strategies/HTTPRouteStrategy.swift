public import ApoxyAPI

/// How the generic store serves HTTPRoutes.
public struct HTTPRouteStrategy: ResourceStrategy {
    public typealias Object = HTTPRoute

    /// Creates the strategy.
    public init() {}

    public func normalize(_ json: inout JSONValue) { HTTPRoute.normalize(&json) }

    public func validate(_ object: HTTPRoute) -> [FieldError] { object.validate() }

    public var tableColumns: [TableColumn] {
        [TableColumn(name: "Hostnames", type: "string", description: "The Host header values the route serves; * for every host.")]
    }

    public func tableCells(_ object: HTTPRoute) -> [JSONValue] {
        [.string(object.spec.hostnames.isEmpty ? "*" : object.spec.hostnames.joined(separator: ","))]
    }

    public var selectableFields: [String] { [] }
}
