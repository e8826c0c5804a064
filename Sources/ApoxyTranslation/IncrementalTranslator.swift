public import ApoxyAPI
public import EnvoyAPI
import Foundation
import HashTreeCollections
public import SwiftProtobuf

/// Changes to the translation's inputs since the last `apply`: objects created or changed (by name), and deleted names.
public struct SourceChanges: Sendable {
    /// Backends by name; nil marks a deleted one.
    public var backends: [String: Backend?] = [:]
    /// Routes by name; nil marks a deleted one.
    public var routes: [String: RouteSource?] = [:]

    /// No changes.
    public init() {}

    /// Whether nothing changed.
    public var isEmpty: Bool { backends.isEmpty && routes.isEmpty }
}

/// What one `apply` changed: Envoy resources to send or remove, and the outcomes that changed.
public struct TranslationChanges: Sendable {
    /// New or changed clusters, by name.
    public var clusters: [String: Envoy_Config_Cluster_V3_Cluster] = [:]
    /// Clusters no longer used by any route.
    public var removedClusters: Set<String> = []
    /// New or changed load assignments of EDS clusters, by cluster name (sent with their cluster even when only the
    /// cluster changed: the snapshot keeps an unchanged encoding's version).
    public var loadAssignments: [String: Envoy_Config_Endpoint_V3_ClusterLoadAssignment] = [:]
    /// Load assignments whose cluster is gone or no longer takes its endpoints over EDS.
    public var removedLoadAssignments: Set<String> = []
    /// The listener, when its filters changed (and on the first `apply`).
    public var listener: Envoy_Config_Listener_V3_Listener?
    /// The packed route configuration, when a virtual host changed (and on the first `apply`).
    public var routeConfiguration: Google_Protobuf_Any?
    /// Backends whose outcome changed or which were deleted.
    public var backends: Set<String> = []
    /// Routes whose outcome changed or which were deleted.
    public var routes: Set<String> = []

    /// Whether no resource changed (outcomes may still have).
    public var resourcesUnchanged: Bool {
        clusters.isEmpty && removedClusters.isEmpty && loadAssignments.isEmpty && removedLoadAssignments.isEmpty
            && listener == nil && routeConfiguration == nil
    }
}

/// The translation kept between changes: each `apply` rebuilds only what the changed objects feed (a Backend's
/// clusters, the virtual hosts of the routes that name it), so its cost follows the change, not the number of objects.
/// Its results always equal `Translator.translate` of the same objects; routes are built by the same functions.
public struct IncrementalTranslator: Sendable {
    /// The options every resource is built with.
    public let options: TranslatorOptions
    /// The outcome of every Backend and route (`clusters`, `virtualHosts` and `dynamicProxyFilters` stay empty).
    public private(set) var outcomes = GatewayIR()

    private var plans: [String: Translator.BackendPlan] = [:]
    private var sources: [String: RouteSource] = [:]
    private var fragments: [String: Translator.RouteFragment] = [:]
    /// Route names by the Backend names they refer to, existing or not (a Backend created later resolves them).
    private var routesByBackend: [String: Set<String>] = [:]
    private var clusters: [String: (cluster: GatewayIR.Cluster, users: Int)] = [:]
    private var clustersByBackend: [String: Set<String>] = [:]
    private var filters: [String: (cache: GatewayIR.DNSCache, users: Int)] = [:]
    /// Route names by host name, and the routes without host names (they join every virtual host).
    private var hostRoutes: [String: Set<String>] = [:]
    private var anyHostRoutes: Set<String> = []
    /// Each virtual host encoded, so the route configuration is their concatenation rather than a re-encoding.
    private var encodedHosts: [String: Data] = [:]
    /// The sum of the encodings' sizes.
    private var encodedSize = 0
    /// Named hosts in Envoy's order (`Translator.hostOrder`); `*`, when present, comes after them.
    private var hostOrder: [String] = []
    private var listenerFilters: [GatewayIR.DNSCache]?

    /// Creates an empty translation.
    public init(options: TranslatorOptions) {
        self.options = options
    }

    /// Applies changed and deleted objects and returns what that changed.
    public mutating func apply(_ changes: SourceChanges) throws -> TranslationChanges {
        var result = TranslationChanges()
        var dirtyRoutes = Set(changes.routes.keys)
        for (name, backend) in changes.backends {
            if let backend {
                let (plan, outcome) = Translator.accept(backend)
                plans[name] = plan
                outcomes.backends[name] = outcome
            } else {
                plans[name] = nil
                outcomes.backends[name] = nil
            }
            result.backends.insert(name)
            dirtyRoutes.formUnion(routesByBackend[name] ?? [])
        }
        for (name, route) in changes.routes { sources[name] = route }

        var touched = Touched()
        var dirtyHosts = Set<String>()
        var anyHostChanged = false
        let known = outcomes.backends
        for name in dirtyRoutes {
            let old = fragments.removeValue(forKey: name)
            let new = sources[name].map { source in
                Translator.fragment(of: source, plans: plans, backendExists: { known[$0] != nil })
            }
            if let old { unregister(old, route: name, touched: &touched) }
            if let new {
                register(new, route: name, touched: &touched)
                fragments[name] = new
            }
            if outcomes.routes[name] != new?.outcome {
                outcomes.routes[name] = new?.outcome
                result.routes.insert(name)
            }
            guard old?.routes != new?.routes || old?.hostnames != new?.hostnames else { continue }
            for fragment in [old, new].compactMap({ $0 }) {
                if fragment.hostnames.isEmpty { anyHostChanged = true } else { dirtyHosts.formUnion(fragment.hostnames) }
            }
        }

        try collectClusters(touched.clusters, into: &result)
        let first = listenerFilters == nil
        if first || !touched.filters.isEmpty {
            let current = filters.values.map(\.cache).sorted { $0.filterName < $1.filterName }
            if first || current != listenerFilters {
                listenerFilters = current
                result.listener = try Translator.listener(filters: current, options: options)
            }
        }
        if anyHostChanged {
            // Routes without host names are part of every virtual host.
            dirtyHosts.formUnion(hostRoutes.keys)
        }
        if try rebuildHosts(dirtyHosts, anyHostChanged: anyHostChanged) || first {
            result.routeConfiguration = routeConfiguration()
        }
        for name in result.backends where outcomes.backends[name] != nil {
            let names = (clustersByBackend[name] ?? []).sorted()
            outcomes.backends[name]?.clusters = names
            outcomes.backends[name]?.usesEndpointDiscovery = names.contains {
                clusters[$0].map { Translator.loadAssignment($0.cluster) != nil } ?? false
            }
        }
        return result
    }

    /// The previous value of every cluster and filter touched by one `apply`, to tell what really changed.
    private struct Touched {
        var clusters: [String: GatewayIR.Cluster?] = [:]
        var filters: Set<String> = []
    }

    private mutating func register(_ fragment: Translator.RouteFragment, route: String, touched: inout Touched) {
        for (name, cluster) in fragment.clusters {
            if touched.clusters.index(forKey: name) == nil { touched.clusters[name] = .some(clusters[name]?.cluster) }
            clusters[name] = (cluster, (clusters[name]?.users ?? 0) + 1)
        }
        for (name, cache) in fragment.filters {
            if filters[name]?.cache != cache { touched.filters.insert(name) }
            filters[name] = (cache, (filters[name]?.users ?? 0) + 1)
        }
        for backend in fragment.referencedBackends { routesByBackend[backend, default: []].insert(route) }
        if fragment.hostnames.isEmpty {
            anyHostRoutes.insert(route)
        } else {
            for host in fragment.hostnames { hostRoutes[host, default: []].insert(route) }
        }
    }

    private mutating func unregister(_ fragment: Translator.RouteFragment, route: String, touched: inout Touched) {
        for name in fragment.clusters.keys {
            guard let entry = clusters[name] else { continue }
            if touched.clusters.index(forKey: name) == nil { touched.clusters[name] = .some(entry.cluster) }
            clusters[name] = entry.users > 1 ? (entry.cluster, entry.users - 1) : nil
        }
        for name in fragment.filters.keys {
            guard let entry = filters[name] else { continue }
            if entry.users <= 1 { touched.filters.insert(name) }
            filters[name] = entry.users > 1 ? (entry.cache, entry.users - 1) : nil
        }
        for backend in fragment.referencedBackends {
            routesByBackend[backend]?.remove(route)
            if routesByBackend[backend]?.isEmpty == true { routesByBackend[backend] = nil }
        }
        if fragment.hostnames.isEmpty {
            anyHostRoutes.remove(route)
        } else {
            for host in fragment.hostnames {
                hostRoutes[host]?.remove(route)
                if hostRoutes[host]?.isEmpty == true { hostRoutes[host] = nil }
            }
        }
    }

    private mutating func collectClusters(
        _ touched: [String: GatewayIR.Cluster?], into result: inout TranslationChanges
    ) throws {
        for (name, previous) in touched {
            let current = clusters[name]?.cluster
            guard current != previous else { continue }
            let backend = (current ?? previous)!.backend
            if let assignment = current.flatMap(Translator.loadAssignment) {
                result.loadAssignments[name] = assignment
            } else if let previous, Translator.loadAssignment(previous) != nil {
                result.removedLoadAssignments.insert(name)
            }
            if let current {
                result.clusters[name] = try Translator.cluster(current, options: options)
                clustersByBackend[backend, default: []].insert(name)
            } else {
                result.removedClusters.insert(name)
                clustersByBackend[backend]?.remove(name)
                if clustersByBackend[backend]?.isEmpty == true { clustersByBackend[backend] = nil }
            }
            if (current == nil) != (previous == nil) { result.backends.insert(backend) }
        }
    }

    /// Re-encodes the virtual hosts of `hosts` (adding and removing them as routes come and go); returns whether any
    /// encoding changed.
    private mutating func rebuildHosts(_ hosts: Set<String>, anyHostChanged: Bool) throws -> Bool {
        let anyHostBuilt = anyHostRoutes.sorted().flatMap { fragments[$0]?.routes ?? [] }
        var changed = false
        for host in hosts where host != "*" {
            let routes = hostRoutes[host].map { names in names.sorted().flatMap { fragments[$0]?.routes ?? [] } }
            changed = try update(host, routes.map { ($0, anyHostBuilt) }) || changed
        }
        if anyHostChanged {
            // `*` exists only while some route without host names builds at least one route.
            changed = try update("*", anyHostBuilt.isEmpty ? nil : ([], anyHostBuilt)) || changed
        }
        return changed
    }

    /// Sets or removes one host's encoding; returns whether it changed.
    private mutating func update(_ host: String, _ routes: ([GatewayIR.Route], [GatewayIR.Route])?) throws -> Bool {
        guard let (named, anyHost) = routes else {
            guard let removed = encodedHosts.removeValue(forKey: host) else { return false }
            encodedSize -= removed.count
            if host != "*" {
                let index = position(of: host)
                if index < hostOrder.count, hostOrder[index] == host { hostOrder.remove(at: index) }
            }
            return true
        }
        let encoded: Data = try Translator.virtualHost(Translator.virtualHost(host, routes: named, anyHostRoutes: anyHost))
            .serializedBytes(options: Translator.deterministic)
        let previous = encodedHosts.updateValue(encoded, forKey: host)
        encodedSize += encoded.count - (previous?.count ?? 0)
        if previous == nil, host != "*" { hostOrder.insert(host, at: position(of: host)) }
        return previous != encoded
    }

    /// Where `host` is or would go in `hostOrder` (binary search).
    private func position(of host: String) -> Int {
        var (low, high) = (0, hostOrder.count)
        while low < high {
            let middle = (low + high) / 2
            if Translator.hostOrder(hostOrder[middle], host) { low = middle + 1 } else { high = middle }
        }
        return low
    }

    /// The route configuration from the encoded virtual hosts: field 1 (name), then field 2 (virtual_hosts) once per
    /// host, exactly as SwiftProtobuf encodes the message whole.
    private func routeConfiguration() -> Google_Protobuf_Any {
        // Bytes in an array reserved up front: appending to `Data` piecemeal cost a third of the control plane's CPU
        // at 10,000 hosts.
        var bytes: [UInt8] = []
        bytes.reserveCapacity(encodedSize + 16 * (encodedHosts.count + 1) + options.routeConfigurationName.utf8.count)
        func field(_ number: UInt64, _ payload: Data) {
            bytes.append(UInt8(number << 3 | 2))
            var value = UInt64(payload.count)
            while value >= 0x80 {
                bytes.append(UInt8(value & 0x7f | 0x80))
                value >>= 7
            }
            bytes.append(UInt8(value))
            bytes.append(contentsOf: payload)
        }
        if !options.routeConfigurationName.isEmpty { field(1, Data(options.routeConfigurationName.utf8)) }
        for host in hostOrder { field(2, encodedHosts[host]!) }
        if let any = encodedHosts["*"] { field(2, any) }
        var packed = Google_Protobuf_Any()
        packed.typeURL = "type.googleapis.com/\(Envoy_Config_Route_V3_RouteConfiguration.protoMessageName)"
        packed.value = Data(bytes)
        return packed
    }
}
