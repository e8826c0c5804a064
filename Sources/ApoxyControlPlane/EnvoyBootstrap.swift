public import ApoxyAPI
import ApoxyClient

/// The static bootstrap of an Envoy that takes everything else from our ADS server.
public struct EnvoyBootstrap: Sendable {
    public var nodeID: String
    public var adminHost: String
    public var adminPort: Int
    public var xdsHost: String
    public var xdsPort: Int
    /// Mutual TLS to the control plane; nil is plaintext HTTP/2.
    public var xdsTLS: ClientTLS?
    /// Which ADS variant Envoy speaks.
    public var xdsProtocol: XDSProtocol

    /// ADS variants: incremental (`DELTA_GRPC`) or state of the world (`GRPC`).
    public enum XDSProtocol: String, Sendable, CaseIterable {
        case delta
        case sotw

        /// `ads_config.api_type`.
        var apiType: String { self == .delta ? "DELTA_GRPC" : "GRPC" }
    }

    /// The files Envoy presents and trusts on its connection to the ADS server.
    public struct ClientTLS: Sendable {
        /// PEM client certificate Envoy presents.
        public var certificateFile: String
        /// PEM key of that certificate.
        public var privateKeyFile: String
        /// PEM CA the ADS server's certificate must chain to.
        public var caFile: String

        /// Creates the settings from PEM files.
        public init(certificateFile: String, privateKeyFile: String, caFile: String) {
            self.certificateFile = certificateFile
            self.privateKeyFile = privateKeyFile
            self.caFile = caFile
        }
    }

    /// Creates a bootstrap description.
    public init(
        nodeID: String, adminHost: String, adminPort: Int, xdsHost: String, xdsPort: Int, xdsTLS: ClientTLS? = nil,
        xdsProtocol: XDSProtocol = .delta
    ) {
        self.xdsProtocol = xdsProtocol
        self.nodeID = nodeID
        self.adminHost = adminHost
        self.adminPort = adminPort
        self.xdsHost = xdsHost
        self.xdsPort = xdsPort
        self.xdsTLS = xdsTLS
    }

    /// The xds_cluster's transport socket: TLS 1.2+ with ALPN h2, the server's certificate checked against the CA
    /// and against `xdsHost` (an IP SAN for an address, a DNS SAN for a name), and Envoy's client certificate.
    func transportSocket(_ tls: ClientTLS) -> JSONValue {
        let isAddress = HTTPConnection.isIPAddress(xdsHost)
        var context: JSONObject = [
            "common_tls_context": [
                "alpn_protocols": ["h2"],
                "tls_params": ["tls_minimum_protocol_version": "TLSv1_2"],
                "tls_certificates": [
                    [
                        "certificate_chain": ["filename": .string(tls.certificateFile)],
                        "private_key": ["filename": .string(tls.privateKeyFile)],
                    ]
                ],
                "validation_context": [
                    "trusted_ca": ["filename": .string(tls.caFile)],
                    "match_typed_subject_alt_names": [
                        [
                            "san_type": isAddress ? "IP_ADDRESS" : "DNS", "matcher": ["exact": .string(xdsHost)],
                        ]
                    ],
                ],
            ]
        ]
        context["@type"] = "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext"
        if !isAddress { context["sni"] = .string(xdsHost) }
        return ["name": "envoy.transport_sockets.tls", "typed_config": .object(context)]
    }

    static func address(_ host: String, _ port: Int) -> JSONValue {
        ["socket_address": ["address": .string(host), "port_value": .integer(Int64(port))]]
    }

    /// The bootstrap as JSON: ADS over gRPC (delta or state of the world) for clusters and listeners (which load routes
    /// over the same stream), the admin interface, and the one static cluster that reaches the control plane
    /// (over mutual TLS with `xdsTLS`).
    public var json: JSONValue {
        let ads: JSONValue = ["ads": [:], "resource_api_version": "V3"]
        let http2: JSONValue = [
            "envoy.extensions.upstreams.http.v3.HttpProtocolOptions": [
                "@type": "type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions",
                "explicit_http_config": ["http2_protocol_options": [:]],
            ]
        ]
        var xdsCluster: JSONValue = [
            "name": "xds_cluster", "type": "STATIC", "connect_timeout": "1s",
            "typed_extension_protocol_options": http2,
            "load_assignment": [
                "cluster_name": "xds_cluster",
                "endpoints": [["lb_endpoints": [["endpoint": ["address": Self.address(xdsHost, xdsPort)]]]]],
            ],
        ]
        if let xdsTLS { xdsCluster["transport_socket"] = transportSocket(xdsTLS) }
        return [
            "node": ["id": .string(nodeID), "cluster": "apoxy"],
            "admin": ["address": Self.address(adminHost, adminPort)],
            "dynamic_resources": [
                "ads_config": [
                    "api_type": .string(xdsProtocol.apiType), "transport_api_version": "V3", "set_node_on_first_message_only": true,
                    "grpc_services": [["envoy_grpc": ["cluster_name": "xds_cluster"]]],
                ],
                "cds_config": ads,
                "lds_config": ads,
            ],
            "static_resources": ["clusters": [xdsCluster]],
        ]
    }
}
