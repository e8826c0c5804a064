public import ApoxyAPI

/// How the generic store serves Backends.
public struct BackendStrategy: ResourceStrategy {
    public typealias Object = Backend

    /// Creates the strategy.
    public init() {}

    public func normalize(_ json: inout JSONValue) { Backend.normalize(&json) }

    public func validate(_ object: Backend) -> [FieldError] { object.validate() }

    public var tableColumns: [TableColumn] {
        [
            TableColumn(name: "Endpoints", type: "string", description: "The endpoints (fqdn or ip) Envoy connects to."),
            TableColumn(name: "Protocol", type: "string", description: "The upstream protocol: \"\" (HTTP/1.1), tls, h2 or h2c."),
            TableColumn(
                name: "Propagation", type: "string",
                description:
                    "How long the last programmed generation took from the control plane seeing it to every connected proxy's ACK.",
                priority: 1),
            TableColumn(
                name: "Healthy", type: "string",
                description:
                    "Upstream hosts every backplane's Envoy sees as healthy, of those it has (FQDNs count once per resolved address).",
                priority: 1),
        ]
    }

    public func tableCells(_ object: Backend) -> [JSONValue] {
        let endpoints = object.spec.endpoints.map(\.address).filter { !$0.isEmpty }
        return [
            .string(endpoints.isEmpty ? "None" : endpoints.joined(separator: ",")), .string(object.spec.protocol),
            object.status.propagation.map { .string($0.latency) } ?? .null,
            Self.healthyCell(object.status.proxies),
        ]
    }

    public var selectableFields: [String] { ["spec.protocol"] }

    /// `healthy/total` over every backplane's observed endpoints; null until one reports any.
    static func healthyCell(_ proxies: [ProxyStatus]) -> JSONValue {
        let endpoints = proxies.flatMap(\.endpoints)
        guard !endpoints.isEmpty else { return .null }
        return .string("\(endpoints.filter(\.isHealthy).count)/\(endpoints.count)")
    }
}
