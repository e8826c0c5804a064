public import ApoxyAPI

/// Settings of the translation that do not come from API objects: where Envoy listens, whom it trusts, which DNS.
public struct TranslatorOptions: Sendable, Hashable {
    /// A host and port pair (an IP literal for listeners and resolvers).
    public struct SocketAddress: Sendable, Hashable {
        public var host: String
        public var port: Int
        /// Creates an address.
        public init(host: String, port: Int) {
            self.host = host
            self.port = port
        }
    }

    /// The one HTTP listener every route is served on.
    public var listener: SocketAddress
    /// The name of the listener, and of the RDS route configuration it loads.
    public var routeConfigurationName: String
    /// PEM bundle that upstream TLS certificates must chain to (Debian's system bundle by default).
    public var trustedCAFile: String
    /// DNS server for STRICT_DNS clusters and dynamic forward proxy caches; nil means the system resolver.
    public var dnsResolver: SocketAddress?
    /// Upstream connect timeout.
    public var connectTimeout: GoDuration
    /// Envoy address family policy for FQDN endpoints of non-dynamic-proxy Backends (Backend has no field for it).
    public var strictDNSLookupFamily: String
    /// How often Envoy probes each upstream host of an IP or FQDN Backend with an active TCP health check (a
    /// connect); nil: no active health checking (Envoy's default, and the Backend API has no field for it).
    public var tcpHealthCheckInterval: GoDuration?

    /// Creates options; the defaults are those of the reference configurations.
    public init(
        listener: SocketAddress = SocketAddress(host: "0.0.0.0", port: 10000),
        routeConfigurationName: String = "apoxy",
        trustedCAFile: String = "/etc/ssl/certs/ca-certificates.crt",
        dnsResolver: SocketAddress? = nil,
        connectTimeout: GoDuration = .seconds(5),
        strictDNSLookupFamily: String = "v4_preferred"
    ) {
        self.listener = listener
        self.routeConfigurationName = routeConfigurationName
        self.trustedCAFile = trustedCAFile
        self.dnsResolver = dnsResolver
        self.connectTimeout = connectTimeout
        self.strictDNSLookupFamily = strictDNSLookupFamily
    }
}
