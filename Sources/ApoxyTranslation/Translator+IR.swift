public import ApoxyAPI
import HashTreeCollections

/// Pure functions from API objects to Envoy configuration: `buildIR` (API -> IR), then `envoyResources` (IR -> Envoy).
public enum Translator {
    /// Resolves Backends and routes into the intermediate model. A Backend or rule that cannot be translated is left
    /// out with its reason in the outcomes; everything else is still built.
    public static func buildIR(backends: [Backend], routes: [RouteSource], options: TranslatorOptions) -> GatewayIR {
        var ir = GatewayIR()
        var plans: [String: BackendPlan] = [:]
        // Input order does not matter: outcomes are keyed by name and every list below is sorted by a total order.
        for backend in backends {
            let (plan, outcome) = accept(backend)
            plans[backend.metadata.name] = plan
            ir.backends[backend.metadata.name] = outcome
        }

        var clusters: [String: GatewayIR.Cluster] = [:]
        var filters: [String: GatewayIR.DNSCache] = [:]
        var hostRoutes: [String: [GatewayIR.Route]] = [:]
        var anyHostRoutes: [GatewayIR.Route] = []
        for route in routes {
            let fragment = fragment(of: route, plans: plans, backendExists: { ir.backends[$0] != nil })
            clusters.merge(fragment.clusters) { $1 }
            filters.merge(fragment.filters) { $1 }
            if fragment.hostnames.isEmpty {
                anyHostRoutes += fragment.routes
            } else {
                for host in fragment.hostnames { hostRoutes[host, default: []] += fragment.routes }
            }
            ir.routes[route.name] = fragment.outcome
        }

        for host in hostRoutes.keys.sorted(by: hostOrder) {
            ir.virtualHosts.append(virtualHost(host, routes: hostRoutes[host] ?? [], anyHostRoutes: anyHostRoutes))
        }
        if !anyHostRoutes.isEmpty { ir.virtualHosts.append(virtualHost("*", routes: [], anyHostRoutes: anyHostRoutes)) }
        ir.clusters = clusters.values.sorted { $0.name < $1.name }
        ir.dynamicProxyFilters = filters.values.sorted { $0.filterName < $1.filterName }
        for cluster in ir.clusters {
            ir.backends[cluster.backend]?.clusters.append(cluster.name)
            if loadAssignment(cluster) != nil { ir.backends[cluster.backend]?.usesEndpointDiscovery = true }
        }
        return ir
    }

    /// A Backend's plan (nil when it cannot be translated) and its outcome before any route uses it.
    static func accept(_ backend: Backend) -> (plan: BackendPlan?, outcome: GatewayIR.BackendOutcome) {
        let generation = backend.metadata.generation
        switch plan(backend) {
        case .success(let plan):
            return (
                plan,
                .init(
                    generation: generation, accepted: true, reason: "Accepted", message: "translated into Envoy configuration",
                    clusters: [])
            )
        case .failure(let problem):
            return (
                nil,
                .init(
                    generation: generation, accepted: false, reason: problem.reason, message: problem.message, clusters: [])
            )
        }
    }

    /// What one route contributes to the model: the routes it builds, the clusters and filters they use, and its
    /// outcome. The full and the incremental translation both build routes only through here.
    struct RouteFragment: Sendable, Hashable {
        var routes: [GatewayIR.Route] = []
        var clusters: [String: GatewayIR.Cluster] = [:]
        var filters: [String: GatewayIR.DNSCache] = [:]
        /// The route's host names; empty means every host.
        var hostnames: Set<String>
        /// Every Backend name the route refers to, whether it exists or not.
        var referencedBackends: Set<String> = []
        var outcome: GatewayIR.RouteOutcome
    }

    static func fragment(
        of route: RouteSource, plans: [String: BackendPlan], backendExists: (String) -> Bool
    ) -> RouteFragment {
        var fragment = RouteFragment(
            hostnames: Set(route.hostnames),
            outcome: .init(
                generation: route.generation, accepted: true, acceptedReason: "Accepted",
                acceptedMessage: "translated into Envoy configuration", resolvedRefs: true, refsReason: "ResolvedRefs",
                refsMessage: "all references resolved"))
        var problems: [(reason: String, message: String)] = []
        for (ruleIndex, rule) in route.rules.enumerated() {
            var destinations: [GatewayIR.Destination] = []
            var enabledFilters: [String] = []
            var hostRewrite: String?
            for (refIndex, ref) in rule.backendRefs.enumerated() {
                let at = "rules[\(ruleIndex)].backendRefs[\(refIndex)]"
                fragment.referencedBackends.insert(ref.name)
                guard let plan = plans[ref.name] else {
                    problems.append(
                        backendExists(ref.name)
                            ? ("InvalidBackend", "\(at): Backend \(ref.name) is not accepted")
                            : ("BackendNotFound", "\(at): Backend \(ref.name) not found"))
                    continue
                }
                let clusterName: String
                switch plan.kind {
                case .dynamicProxy(let cache):
                    clusterName = "\(ref.name):dfp"
                    fragment.filters[cache.filterName] = cache
                    enabledFilters.append(cache.filterName)
                    let host = plan.endpoints[0].address
                    let bracketed = host.contains(":") ? "[\(host)]" : host
                    hostRewrite = ref.port.map { "\(bracketed):\($0)" } ?? bracketed
                    fragment.clusters[clusterName] = .init(
                        name: clusterName, backend: ref.name, discovery: .dynamicForwardProxy(cache),
                        upstreamProtocol: plan.upstreamProtocol)
                case .endpoints(let usesDNS):
                    guard let port = ref.port else {
                        problems.append(("InvalidPort", "\(at): a port is required for Backend \(ref.name)"))
                        continue
                    }
                    clusterName = "\(ref.name):\(port)"
                    let endpoints = plan.endpoints.map {
                        GatewayIR.Endpoint(address: $0.address, port: port, isHostname: $0.isHostname)
                    }
                    fragment.clusters[clusterName] = .init(
                        name: clusterName, backend: ref.name,
                        discovery: usesDNS ? .strictDNS(endpoints) : .staticIPs(endpoints),
                        upstreamProtocol: plan.upstreamProtocol)
                }
                if ref.weight > 0 {
                    destinations.append(.init(cluster: clusterName, weight: ref.weight))
                }
            }
            // A rule with nothing valid to send to is left out: Envoy then answers 404 for it, and the other
            // rules and routes keep serving.
            guard !destinations.isEmpty else { continue }
            for match in rule.matches {
                fragment.routes.append(
                    .init(
                        routeName: route.name, ruleIndex: ruleIndex, match: match, destinations: destinations,
                        timeout: rule.requestTimeout, hostRewrite: hostRewrite, enabledFilters: enabledFilters))
            }
        }
        if let first = problems.first {
            fragment.outcome.resolvedRefs = false
            fragment.outcome.refsReason = first.reason
            fragment.outcome.refsMessage = problems.map(\.message).joined(separator: "; ")
        }
        return fragment
    }

    /// The virtual host of one host name (or `*`). Routes without hostnames match every host, so they also join each
    /// named virtual host: Envoy picks one virtual host per request and never falls back to `*`.
    static func virtualHost(
        _ host: String, routes: [GatewayIR.Route], anyHostRoutes: [GatewayIR.Route]
    ) -> GatewayIR.VirtualHost {
        var domains = [host]
        if !host.hasPrefix("*") { domains.append("\(host):*") }
        return .init(name: host, domains: domains, routes: (routes + anyHostRoutes).sorted(by: precedes))
    }

    /// Exact host names before wildcards, longer wildcards first; deterministic.
    static func hostOrder(_ a: String, _ b: String) -> Bool {
        let (wa, wb) = (a.hasPrefix("*"), b.hasPrefix("*"))
        if wa != wb { return !wa }
        // utf8.count is O(1); String.count walks the whole string.
        if a.utf8.count != b.utf8.count { return a.utf8.count > b.utf8.count }
        return a < b
    }

    /// Gateway API precedence: exact path, then the longest prefix, then a method, then more headers, then name.
    static func precedes(_ a: GatewayIR.Route, _ b: GatewayIR.Route) -> Bool {
        let (ea, eb) = (a.match.pathType == .exact, b.match.pathType == .exact)
        if ea != eb { return ea }
        if a.match.path.utf8.count != b.match.path.utf8.count { return a.match.path.utf8.count > b.match.path.utf8.count }
        if (a.match.method != nil) != (b.match.method != nil) { return a.match.method != nil }
        if a.match.headers.count != b.match.headers.count { return a.match.headers.count > b.match.headers.count }
        if a.routeName != b.routeName { return a.routeName < b.routeName }
        return a.ruleIndex < b.ruleIndex
    }

    /// A Backend that translates, before any route gives it a port.
    struct BackendPlan: Sendable {
        enum Kind: Sendable {
            case endpoints(usesDNS: Bool)
            case dynamicProxy(GatewayIR.DNSCache)
        }
        var kind: Kind
        var endpoints: [(address: String, isHostname: Bool)]
        var upstreamProtocol: GatewayIR.UpstreamProtocol
    }

    struct Problem: Error {
        var reason: String
        var message: String
    }

    static func plan(_ backend: Backend) -> Result<BackendPlan, Problem> {
        let spec = backend.spec
        guard let upstreamProtocol = GatewayIR.UpstreamProtocol(rawValue: spec.protocol) else {
            return .failure(Problem(reason: "UnsupportedProtocol", message: "spec.protocol: \(spec.protocol) is not supported"))
        }
        var endpoints: [(address: String, isHostname: Bool)] = []
        for (index, endpoint) in spec.endpoints.enumerated() {
            if let fqdn = endpoint.fqdn, endpoint.ip == nil {
                endpoints.append((fqdn, true))
            } else if let ip = endpoint.ip, endpoint.fqdn == nil {
                endpoints.append((ip, false))
            } else {
                return .failure(
                    Problem(
                        reason: "InvalidEndpoint", message: "spec.endpoints[\(index)]: exactly one of fqdn or ip is required"))
            }
        }
        if let dynamicProxy = spec.dynamicProxy {
            guard endpoints.count == 1 else {
                return .failure(
                    Problem(
                        reason: "InvalidEndpoint", message: "spec.endpoints: a dynamic proxy Backend needs exactly one endpoint"))
            }
            switch dnsCache(backend: backend.metadata.name, config: dynamicProxy.dnsCacheConfig) {
            case .success(let cache):
                return .success(.init(kind: .dynamicProxy(cache), endpoints: endpoints, upstreamProtocol: upstreamProtocol))
            case .failure(let problem):
                return .failure(problem)
            }
        }
        guard !endpoints.isEmpty else {
            return .failure(Problem(reason: "InvalidEndpoint", message: "spec.endpoints: at least one endpoint is required"))
        }
        return .success(
            .init(
                kind: .endpoints(usesDNS: endpoints.contains { $0.isHostname }), endpoints: endpoints,
                upstreamProtocol: upstreamProtocol))
    }

    static func dnsCache(backend: String, config: DynamicProxyDnsCacheConfig?) -> Result<GatewayIR.DNSCache, Problem> {
        func duration(_ text: String?, _ fallback: GoDuration, _ field: String) throws(Problem) -> GoDuration {
            guard let text else { return fallback }
            do {
                return try GoDuration(parsing: text)
            } catch {
                throw Problem(reason: "InvalidDNSCacheConfig", message: "spec.dynamicProxy.dnsCacheConfig.\(field): \(error.message)")
            }
        }
        do throws(Problem) {
            let family = config?.dnsLookupFamily ?? "auto"
            guard Backend.dnsLookupFamilies.contains(family) else {
                throw Problem(
                    reason: "InvalidDNSCacheConfig",
                    message: "spec.dynamicProxy.dnsCacheConfig.dnsLookupFamily: \(family) is not supported")
            }
            var cache = GatewayIR.DNSCache(
                cacheName: "", filterName: "envoy.filters.http.dynamic_forward_proxy/\(backend)", lookupFamily: family,
                refreshRate: try duration(config?.dnsRefreshRate, .seconds(60), "dnsRefreshRate"),
                minRefreshRate: try duration(config?.dnsMinRefreshRate, .seconds(5), "dnsMinRefreshRate"),
                hostTTL: try duration(config?.hostTTL, .minutes(5), "hostTTL"),
                maxHosts: config?.maxHosts ?? 1024,
                queryTimeout: try duration(config?.dnsQueryTimeout, .seconds(5), "dnsQueryTimeout"))
            let settings = [
                cache.lookupFamily, "\(cache.refreshRate.nanoseconds)", "\(cache.minRefreshRate.nanoseconds)",
                "\(cache.hostTTL.nanoseconds)", "\(cache.maxHosts)", "\(cache.queryTimeout.nanoseconds)",
            ].joined(separator: "|")
            cache.cacheName = "\(backend)-\(fnv1a(settings))"
            return .success(cache)
        } catch {
            return .failure(error)
        }
    }

    /// 32-bit FNV-1a as 8 hex digits: stable across processes and releases, unlike `Hasher`.
    static func fnv1a(_ text: String) -> String {
        var hash: UInt32 = 0x811c_9dc5
        for byte in text.utf8 {
            hash ^= UInt32(byte)
            hash = hash &* 0x0100_0193
        }
        let hex = String(hash, radix: 16)
        return String(repeating: "0", count: 8 - hex.count) + hex
    }
}
