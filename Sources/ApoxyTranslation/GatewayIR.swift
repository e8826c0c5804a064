public import ApoxyAPI
public import HashTreeCollections

/// The intermediate model between API objects and Envoy: what to build, already resolved and checked.
public struct GatewayIR: Sendable, Hashable {
    /// Upstream clusters, one per (Backend, port) and one per dynamic-proxy Backend, sorted by name.
    public var clusters: [Cluster] = []
    /// Dynamic forward proxy HTTP filters, one per dynamic-proxy Backend that a route uses, sorted by filter name.
    public var dynamicProxyFilters: [DNSCache] = []
    /// Virtual hosts in the order Envoy should try them (specific names first, `*` last).
    public var virtualHosts: [VirtualHost] = []
    /// What happened to each Backend, by name; persistent, so a copy handed to the status writer shares storage with
    /// the incremental translator's and a change costs one path, not a copy of every outcome.
    public var backends: TreeDictionary<String, BackendOutcome> = [:]
    /// What happened to each route, by name (persistent, as `backends`).
    public var routes: TreeDictionary<String, RouteOutcome> = [:]

    /// The wire protocol towards the upstream.
    public enum UpstreamProtocol: String, Sendable, Hashable {
        /// Plain HTTP/1.1 (the Backend's `protocol: ""`).
        case http1 = ""
        /// HTTP/1.1 over TLS.
        case tls
        /// HTTP/2 over TLS (ALPN `h2`).
        case h2
        /// HTTP/2 with prior knowledge, in clear text.
        case h2c
    }

    /// One upstream address.
    public struct Endpoint: Sendable, Hashable {
        /// An IP literal, or an FQDN when `isHostname`.
        public var address: String
        /// The backendRef's port.
        public var port: Int
        /// Whether `address` is a name Envoy resolves (an `fqdn` endpoint) rather than an IP.
        public var isHostname: Bool
    }

    /// How a cluster finds its hosts.
    public enum Discovery: Sendable, Hashable {
        /// Only IP endpoints: an EDS cluster whose hosts come in a ClusterLoadAssignment.
        case staticIPs([Endpoint])
        /// At least one FQDN: a STRICT_DNS cluster resolving its own inline assignment.
        case strictDNS([Endpoint])
        /// A dynamic forward proxy cluster over the Backend's DNS cache.
        case dynamicForwardProxy(DNSCache)
    }

    /// An Envoy cluster.
    public struct Cluster: Sendable, Hashable {
        /// `<backend>:<port>`, or the Backend's name for a dynamic-proxy cluster.
        public var name: String
        /// The Backend it is built from.
        public var backend: String
        public var discovery: Discovery
        public var upstreamProtocol: UpstreamProtocol
    }

    /// One DnsCacheConfig, shared verbatim by a dynamic-proxy Backend's filter and cluster.
    public struct DNSCache: Sendable, Hashable {
        /// `<backend>-<hash of the settings>`, so that changed settings make a new cache instead of a NACK.
        public var cacheName: String
        /// `envoy.filters.http.dynamic_forward_proxy/<backend>`.
        public var filterName: String
        /// The seed's `dnsLookupFamily` (`auto`, `v4_only`, ...), mapped to Envoy's enum when encoded.
        public var lookupFamily: String
        /// The seed's DNS cache settings, defaulted: `dnsRefreshRate`, `dnsMinRefreshRate`, `hostTTL`, `maxHosts` and
        /// `dnsQueryTimeout`.
        public var refreshRate: GoDuration
        public var minRefreshRate: GoDuration
        public var hostTTL: GoDuration
        public var maxHosts: Int64
        public var queryTimeout: GoDuration
    }

    /// A set of domains and the routes tried in order for them.
    public struct VirtualHost: Sendable, Hashable {
        /// The hostname it serves, or `*`.
        public var name: String
        /// The hostname with and without `:<port>`, as Envoy matches the Host header.
        public var domains: [String]
        public var routes: [Route]
    }

    /// One match of one rule of one route, with where it sends traffic.
    public struct Route: Sendable, Hashable {
        /// The HTTPRoute this comes from and the index of its rule (for names and precedence).
        public var routeName: String
        public var ruleIndex: Int
        public var match: RouteSource.Match
        /// (cluster, weight) pairs; weights are only used when there are several.
        public var destinations: [Destination]
        /// The rule's `timeouts.request`.
        public var timeout: GoDuration?
        /// `host:port` that a dynamic-proxy destination resolves (the Backend's endpoint and the ref's port).
        public var hostRewrite: String?
        /// Dynamic forward proxy filters to enable on this route.
        public var enabledFilters: [String]
    }

    /// A weighted cluster.
    public struct Destination: Sendable, Hashable {
        public var cluster: String
        public var weight: Int
    }

    /// A Backend's `Accepted` result.
    public struct BackendOutcome: Sendable, Hashable {
        /// The generation translated (the condition's `observedGeneration`).
        public var generation: Int64
        /// `Accepted`'s status, reason and message.
        public var accepted: Bool
        public var reason: String
        public var message: String
        /// Clusters built from this Backend (empty when no route uses it).
        public var clusters: [String]
        /// Whether those clusters take their endpoints over EDS, so that a proxy has them only once it acknowledged
        /// the load assignments too.
        public var usesEndpointDiscovery = false
    }

    /// A route's `Accepted` and `ResolvedRefs` results.
    public struct RouteOutcome: Sendable, Hashable {
        /// The generation translated (the conditions' `observedGeneration`).
        public var generation: Int64
        /// `Accepted`'s status, reason and message.
        public var accepted: Bool
        public var acceptedReason: String
        public var acceptedMessage: String
        /// `ResolvedRefs`' status, reason and message (false when a backendRef names no Backend).
        public var resolvedRefs: Bool
        public var refsReason: String
        public var refsMessage: String
    }
}
