import ApoxyAPI
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
        case http1 = ""
        case tls
        case h2
        case h2c
    }

    /// One upstream address.
    public struct Endpoint: Sendable, Hashable {
        public var address: String
        public var port: Int
        public var isHostname: Bool
    }

    /// How a cluster finds its hosts.
    public enum Discovery: Sendable, Hashable {
        case staticIPs([Endpoint])
        case strictDNS([Endpoint])
        case dynamicForwardProxy(DNSCache)
    }

    /// An Envoy cluster.
    public struct Cluster: Sendable, Hashable {
        public var name: String
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
        public var lookupFamily: String
        public var refreshRate: GoDuration
        public var minRefreshRate: GoDuration
        public var hostTTL: GoDuration
        public var maxHosts: Int64
        public var queryTimeout: GoDuration
    }

    /// A set of domains and the routes tried in order for them.
    public struct VirtualHost: Sendable, Hashable {
        public var name: String
        public var domains: [String]
        public var routes: [Route]
    }

    /// One match of one rule of one route, with where it sends traffic.
    public struct Route: Sendable, Hashable {
        public var routeName: String
        public var ruleIndex: Int
        public var match: RouteSource.Match
        /// (cluster, weight) pairs; weights are only used when there are several.
        public var destinations: [Destination]
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
        public var generation: Int64
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
        public var generation: Int64
        public var accepted: Bool
        public var acceptedReason: String
        public var acceptedMessage: String
        public var resolvedRefs: Bool
        public var refsReason: String
        public var refsMessage: String
    }
}
