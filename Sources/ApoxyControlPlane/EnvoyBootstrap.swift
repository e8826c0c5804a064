import ApoxyAPI

/// The static bootstrap of an Envoy that takes everything else from our ADS server.
public struct EnvoyBootstrap: Sendable {
    public var nodeID: String
    public var adminHost: String
    public var adminPort: Int
    public var xdsHost: String
    public var xdsPort: Int

    /// Creates a bootstrap description.
    public init(nodeID: String, adminHost: String, adminPort: Int, xdsHost: String, xdsPort: Int) {
        self.nodeID = nodeID
        self.adminHost = adminHost
        self.adminPort = adminPort
        self.xdsHost = xdsHost
        self.xdsPort = xdsPort
    }

    static func address(_ host: String, _ port: Int) -> JSONValue {
        ["socket_address": ["address": .string(host), "port_value": .integer(Int64(port))]]
    }

    /// The bootstrap as JSON: ADS over gRPC (state of the world) for clusters and listeners (which load routes
    /// over the same stream), the admin interface, and the one static cluster that reaches the control plane.
    public var json: JSONValue {
        let ads: JSONValue = ["ads": [:], "resource_api_version": "V3"]
        let http2: JSONValue = [
            "envoy.extensions.upstreams.http.v3.HttpProtocolOptions": [
                "@type": "type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions",
                "explicit_http_config": ["http2_protocol_options": [:]],
            ]
        ]
        return [
            "node": ["id": .string(nodeID), "cluster": "apoxy"],
            "admin": ["address": Self.address(adminHost, adminPort)],
            "dynamic_resources": [
                "ads_config": [
                    "api_type": "GRPC", "transport_api_version": "V3", "set_node_on_first_message_only": true,
                    "grpc_services": [["envoy_grpc": ["cluster_name": "xds_cluster"]]],
                ],
                "cds_config": ads,
                "lds_config": ads,
            ],
            "static_resources": [
                "clusters": [
                    [
                        "name": "xds_cluster", "type": "STATIC", "connect_timeout": "1s",
                        "typed_extension_protocol_options": http2,
                        "load_assignment": [
                            "cluster_name": "xds_cluster",
                            "endpoints": [["lb_endpoints": [["endpoint": ["address": Self.address(xdsHost, xdsPort)]]]]],
                        ],
                    ]
                ]
            ],
        ]
    }
}
