public import ApoxyAPI
public import EnvoyAPI
public import SwiftProtobuf

/// Envoy resources of one translation, by xDS type.
public struct EnvoyResources: Sendable, Equatable {
    public var clusters: [Envoy_Config_Cluster_V3_Cluster] = []
    /// The endpoints of the clusters that take them over EDS (those of IP-only Backends), by cluster name order.
    public var loadAssignments: [Envoy_Config_Endpoint_V3_ClusterLoadAssignment] = []
    public var listeners: [Envoy_Config_Listener_V3_Listener] = []
    public var routeConfigurations: [Envoy_Config_Route_V3_RouteConfiguration] = []

    /// Creates an empty set.
    public init() {}
}

extension Translator {
    static let httpProtocolOptionsName = "envoy.extensions.upstreams.http.v3.HttpProtocolOptions"

    /// Map entries in key order (a route enabling two dynamic proxy filters), so equal resources encode to equal
    /// bytes and keep their xDS version; SwiftProtobuf's default follows the dictionary's order.
    public static let deterministic: BinaryEncodingOptions = {
        var options = BinaryEncodingOptions()
        options.useDeterministicOrdering = true
        return options
    }()

    /// Builds the Envoy resources of an intermediate model: clusters, their load assignments, the listener, and its
    /// route configuration.
    public static func envoyResources(_ ir: GatewayIR, options: TranslatorOptions) throws -> EnvoyResources {
        var resources = EnvoyResources()
        resources.clusters = try ir.clusters.map { try cluster($0, options: options) }
        resources.loadAssignments = ir.clusters.compactMap(loadAssignment)
        resources.listeners = [try listener(ir, options: options)]
        resources.routeConfigurations = [try routeConfiguration(ir, options: options)]
        return resources
    }

    /// API objects to Envoy resources in one call.
    public static func translate(
        backends: [Backend], routes: [RouteSource], options: TranslatorOptions
    ) throws -> (ir: GatewayIR, resources: EnvoyResources) {
        let ir = buildIR(backends: backends, routes: routes, options: options)
        return (ir, try envoyResources(ir, options: options))
    }

    static func duration(_ value: GoDuration) -> Google_Protobuf_Duration {
        var duration = Google_Protobuf_Duration()
        duration.seconds = value.nanoseconds / 1_000_000_000
        duration.nanos = Int32(value.nanoseconds % 1_000_000_000)
        return duration
    }

    static func lookupFamily(_ family: String) -> Envoy_Config_Cluster_V3_Cluster.DnsLookupFamily {
        switch family {
        case "v4_only": .v4Only
        case "v6_only": .v6Only
        case "v4_preferred": .v4Preferred
        case "all": .all
        default: .auto
        }
    }

    static func socketAddress(_ host: String, _ port: Int) -> Envoy_Config_Core_V3_Address {
        var socket = Envoy_Config_Core_V3_SocketAddress()
        socket.address = host
        socket.portValue = UInt32(port)
        var address = Envoy_Config_Core_V3_Address()
        address.socketAddress = socket
        return address
    }

    /// c-ares pointed at one resolver; used by STRICT_DNS clusters and by DNS caches (which ignore the bootstrap's).
    static func dnsResolver(_ options: TranslatorOptions) throws -> Envoy_Config_Core_V3_TypedExtensionConfig? {
        guard let resolver = options.dnsResolver else { return nil }
        var cares = Envoy_Extensions_Network_DnsResolver_Cares_V3_CaresDnsResolverConfig()
        cares.resolvers = [socketAddress(resolver.host, resolver.port)]
        var config = Envoy_Config_Core_V3_TypedExtensionConfig()
        config.name = "envoy.network.dns_resolver.cares"
        config.typedConfig = try Google_Protobuf_Any(message: cares)
        return config
    }

    /// The one DnsCacheConfig of a dynamic-proxy Backend; the filter and the cluster must carry identical copies.
    static func dnsCacheConfig(
        _ cache: GatewayIR.DNSCache, options: TranslatorOptions
    ) throws -> Envoy_Extensions_Common_DynamicForwardProxy_V3_DnsCacheConfig {
        var config = Envoy_Extensions_Common_DynamicForwardProxy_V3_DnsCacheConfig()
        config.name = cache.cacheName
        config.dnsLookupFamily = lookupFamily(cache.lookupFamily)
        config.dnsRefreshRate = duration(cache.refreshRate)
        config.dnsMinRefreshRate = duration(cache.minRefreshRate)
        config.hostTtl = duration(cache.hostTTL)
        config.maxHosts = Google_Protobuf_UInt32Value(UInt32(clamping: cache.maxHosts))
        config.dnsQueryTimeout = duration(cache.queryTimeout)
        if let resolver = try dnsResolver(options) { config.typedDnsResolverConfig = resolver }
        return config
    }

    static func cluster(_ ir: GatewayIR.Cluster, options: TranslatorOptions) throws -> Envoy_Config_Cluster_V3_Cluster {
        var cluster = Envoy_Config_Cluster_V3_Cluster()
        cluster.name = ir.name
        cluster.connectTimeout = duration(options.connectTimeout)
        switch ir.discovery {
        case .staticIPs:
            // Endpoints over EDS, so that editing them updates the cluster's hosts in place instead of replacing the
            // cluster (which would drain its connections).
            cluster.type = .eds
            var configSource = Envoy_Config_Core_V3_ConfigSource()
            configSource.ads = Envoy_Config_Core_V3_AggregatedConfigSource()
            configSource.resourceApiVersion = .v3
            var eds = Envoy_Config_Cluster_V3_Cluster.EdsClusterConfig()
            eds.edsConfig = configSource
            cluster.edsClusterConfig = eds
            cluster.lbPolicy = .roundRobin
        case .strictDNS(let endpoints):
            // STRICT_DNS resolves the names of its own inline assignment; EDS cannot carry names to resolve.
            cluster.type = .strictDns
            cluster.dnsLookupFamily = lookupFamily(options.strictDNSLookupFamily)
            if let resolver = try dnsResolver(options) { cluster.typedDnsResolverConfig = resolver }
            cluster.lbPolicy = .roundRobin
            cluster.loadAssignment = loadAssignment(name: ir.name, endpoints)
        case .dynamicForwardProxy(let cache):
            cluster.lbPolicy = .clusterProvided
            var config = Envoy_Extensions_Clusters_DynamicForwardProxy_V3_ClusterConfig()
            config.dnsCacheConfig = try dnsCacheConfig(cache, options: options)
            var custom = Envoy_Config_Cluster_V3_Cluster.CustomClusterType()
            custom.name = "envoy.clusters.dynamic_forward_proxy"
            custom.typedConfig = try Google_Protobuf_Any(message: config)
            cluster.clusterType = custom
        }

        if let interval = options.tcpHealthCheckInterval {
            // A dynamic forward proxy cluster has no hosts to probe ahead of traffic; Envoy rejects health checks there.
            if case .dynamicForwardProxy = ir.discovery {} else { cluster.healthChecks = [tcpHealthCheck(interval, options: options)] }
        }

        if case .dynamicForwardProxy = ir.discovery, ir.upstreamProtocol == .http1 {
            // HTTP/1.1 is Envoy's default; the verified dynamic-proxy configuration leaves the options out.
            return cluster
        }
        var explicit = Envoy_Extensions_Upstreams_Http_V3_HttpProtocolOptions.ExplicitHttpConfig()
        switch ir.upstreamProtocol {
        case .http1, .tls: explicit.httpProtocolOptions = Envoy_Config_Core_V3_Http1ProtocolOptions()
        case .h2, .h2c: explicit.http2ProtocolOptions = Envoy_Config_Core_V3_Http2ProtocolOptions()
        }
        var protocolOptions = Envoy_Extensions_Upstreams_Http_V3_HttpProtocolOptions()
        protocolOptions.explicitHTTPConfig = explicit
        cluster.typedExtensionProtocolOptions = [httpProtocolOptionsName: try Google_Protobuf_Any(message: protocolOptions)]

        if ir.upstreamProtocol == .tls || ir.upstreamProtocol == .h2 {
            cluster.transportSocket = try upstreamTLS(alpn: ir.upstreamProtocol == .h2 ? "h2" : "http/1.1", options: options)
        }
        return cluster
    }

    /// A connect-only TCP health check: a host is unhealthy after two failed connects and healthy after one that
    /// succeeds. Probes run at `interval` whether or not the cluster has traffic (Envoy's idle default is 60 s).
    static func tcpHealthCheck(_ interval: GoDuration, options: TranslatorOptions) -> Envoy_Config_Core_V3_HealthCheck {
        var check = Envoy_Config_Core_V3_HealthCheck()
        check.interval = duration(interval)
        check.noTrafficInterval = duration(interval)
        check.timeout = duration(GoDuration(nanoseconds: min(interval.nanoseconds, options.connectTimeout.nanoseconds)))
        var unhealthy = Google_Protobuf_UInt32Value()
        unhealthy.value = 2
        check.unhealthyThreshold = unhealthy
        var healthy = Google_Protobuf_UInt32Value()
        healthy.value = 1
        check.healthyThreshold = healthy
        check.tcpHealthCheck = Envoy_Config_Core_V3_HealthCheck.TcpHealthCheck()
        return check
    }

    /// The load assignment an EDS cluster is served (nil for clusters that find their hosts themselves).
    public static func loadAssignment(_ ir: GatewayIR.Cluster) -> Envoy_Config_Endpoint_V3_ClusterLoadAssignment? {
        guard case .staticIPs(let endpoints) = ir.discovery else { return nil }
        return loadAssignment(name: ir.name, endpoints)
    }

    static func loadAssignment(
        name: String, _ endpoints: [GatewayIR.Endpoint]
    ) -> Envoy_Config_Endpoint_V3_ClusterLoadAssignment {
        var locality = Envoy_Config_Endpoint_V3_LocalityLbEndpoints()
        locality.lbEndpoints = endpoints.map { endpoint in
            var lbEndpoint = Envoy_Config_Endpoint_V3_LbEndpoint()
            var envoyEndpoint = Envoy_Config_Endpoint_V3_Endpoint()
            envoyEndpoint.address = socketAddress(endpoint.address, endpoint.port)
            lbEndpoint.endpoint = envoyEndpoint
            return lbEndpoint
        }
        var assignment = Envoy_Config_Endpoint_V3_ClusterLoadAssignment()
        assignment.clusterName = name
        assignment.endpoints = [locality]
        return assignment
    }

    /// TLS with each host's own name as SNI and checked against the certificate's SANs, TLS 1.2 to 1.3.
    static func upstreamTLS(alpn: String, options: TranslatorOptions) throws -> Envoy_Config_Core_V3_TransportSocket {
        var params = Envoy_Extensions_TransportSockets_Tls_V3_TlsParameters()
        params.tlsMinimumProtocolVersion = .tlsv12
        params.tlsMaximumProtocolVersion = .tlsv13
        var trustedCA = Envoy_Config_Core_V3_DataSource()
        trustedCA.filename = options.trustedCAFile
        var validation = Envoy_Extensions_TransportSockets_Tls_V3_CertificateValidationContext()
        validation.trustedCa = trustedCA
        var common = Envoy_Extensions_TransportSockets_Tls_V3_CommonTlsContext()
        common.tlsParams = params
        common.alpnProtocols = [alpn]
        common.validationContext = validation
        var context = Envoy_Extensions_TransportSockets_Tls_V3_UpstreamTlsContext()
        context.commonTlsContext = common
        context.autoHostSni = true
        context.autoSniSanValidation = true
        var socket = Envoy_Config_Core_V3_TransportSocket()
        socket.name = "envoy.transport_sockets.tls"
        socket.typedConfig = try Google_Protobuf_Any(message: context)
        return socket
    }

    static func listener(_ ir: GatewayIR, options: TranslatorOptions) throws -> Envoy_Config_Listener_V3_Listener {
        try listener(filters: ir.dynamicProxyFilters, options: options)
    }

    /// The one HTTP listener, with a disabled dynamic forward proxy filter per cache in `filters` (sorted by name).
    static func listener(
        filters caches: [GatewayIR.DNSCache], options: TranslatorOptions
    ) throws -> Envoy_Config_Listener_V3_Listener {
        var configSource = Envoy_Config_Core_V3_ConfigSource()
        configSource.ads = Envoy_Config_Core_V3_AggregatedConfigSource()
        configSource.resourceApiVersion = .v3
        var rds = Envoy_Extensions_Filters_Network_HttpConnectionManager_V3_Rds()
        rds.configSource = configSource
        rds.routeConfigName = options.routeConfigurationName

        var filters: [Envoy_Extensions_Filters_Network_HttpConnectionManager_V3_HttpFilter] = []
        for cache in caches {
            var config = Envoy_Extensions_Filters_Http_DynamicForwardProxy_V3_FilterConfig()
            config.dnsCacheConfig = try dnsCacheConfig(cache, options: options)
            var filter = Envoy_Extensions_Filters_Network_HttpConnectionManager_V3_HttpFilter()
            filter.name = cache.filterName
            filter.typedConfig = try Google_Protobuf_Any(message: config)
            // Off by default; each route to this Backend turns it on, so no other route touches the cache.
            filter.disabled = true
            filters.append(filter)
        }
        var router = Envoy_Extensions_Filters_Network_HttpConnectionManager_V3_HttpFilter()
        router.name = "envoy.filters.http.router"
        router.typedConfig = try Google_Protobuf_Any(message: Envoy_Extensions_Filters_Http_Router_V3_Router())
        filters.append(router)

        var manager = Envoy_Extensions_Filters_Network_HttpConnectionManager_V3_HttpConnectionManager()
        manager.statPrefix = options.routeConfigurationName
        manager.rds = rds
        manager.httpFilters = filters
        var networkFilter = Envoy_Config_Listener_V3_Filter()
        networkFilter.name = "envoy.filters.network.http_connection_manager"
        networkFilter.typedConfig = try Google_Protobuf_Any(message: manager)
        var chain = Envoy_Config_Listener_V3_FilterChain()
        chain.filters = [networkFilter]
        var listener = Envoy_Config_Listener_V3_Listener()
        listener.name = options.routeConfigurationName
        listener.address = socketAddress(options.listener.host, options.listener.port)
        listener.filterChains = [chain]
        return listener
    }

    static func routeConfiguration(
        _ ir: GatewayIR, options: TranslatorOptions
    ) throws -> Envoy_Config_Route_V3_RouteConfiguration {
        var configuration = Envoy_Config_Route_V3_RouteConfiguration()
        configuration.name = options.routeConfigurationName
        configuration.virtualHosts = try ir.virtualHosts.map(virtualHost)
        return configuration
    }

    static func virtualHost(_ host: GatewayIR.VirtualHost) throws -> Envoy_Config_Route_V3_VirtualHost {
        var virtualHost = Envoy_Config_Route_V3_VirtualHost()
        virtualHost.name = host.name
        virtualHost.domains = host.domains
        virtualHost.routes = try host.routes.map(route)
        return virtualHost
    }

    static func route(_ ir: GatewayIR.Route) throws -> Envoy_Config_Route_V3_Route {
        var match = Envoy_Config_Route_V3_RouteMatch()
        switch ir.match.pathType {
        case .pathPrefix: match.prefix = ir.match.path
        case .exact: match.path = ir.match.path
        }
        var headers = ir.match.headers.map { header in
            exactHeader(header.name.lowercased(), header.value)
        }
        if let method = ir.match.method { headers.insert(exactHeader(":method", method), at: 0) }
        match.headers = headers

        var action = Envoy_Config_Route_V3_RouteAction()
        if ir.destinations.count == 1 {
            action.cluster = ir.destinations[0].cluster
        } else {
            var weighted = Envoy_Config_Route_V3_WeightedCluster()
            weighted.clusters = ir.destinations.map { destination in
                var weight = Envoy_Config_Route_V3_WeightedCluster.ClusterWeight()
                weight.name = destination.cluster
                weight.weight = Google_Protobuf_UInt32Value(UInt32(destination.weight))
                return weight
            }
            action.weightedClusters = weighted
        }
        if let timeout = ir.timeout { action.timeout = duration(timeout) }

        var route = Envoy_Config_Route_V3_Route()
        route.match = match
        route.route = action
        for filter in ir.enabledFilters {
            // A route.v3.FilterConfig re-enables a filter that the listener declares disabled. Its config tells the
            // proxy which host to resolve (the Backend's endpoint and the ref's port): the filter resolves before
            // the router would apply a route-level host rewrite.
            var perRoute = Envoy_Extensions_Filters_Http_DynamicForwardProxy_V3_PerRouteConfig()
            if let hostRewrite = ir.hostRewrite { perRoute.hostRewriteLiteral = hostRewrite }
            var enable = Envoy_Config_Route_V3_FilterConfig()
            enable.config = try Google_Protobuf_Any(message: perRoute)
            route.typedPerFilterConfig[filter] = try Google_Protobuf_Any(message: enable)
        }
        return route
    }

    static func exactHeader(_ name: String, _ value: String) -> Envoy_Config_Route_V3_HeaderMatcher {
        var matcher = Envoy_Type_Matcher_V3_StringMatcher()
        matcher.exact = value
        var header = Envoy_Config_Route_V3_HeaderMatcher()
        header.name = name
        header.stringMatch = matcher
        return header
    }
}
