import EnvoyAPI
import SwiftProtobuf

/// A complete, consistent set of resources of every type, published under one version.
public struct Snapshot: Sendable, Equatable {
    /// Sent as `version_info`; increases with each published snapshot.
    public let version: String
    /// Resources by type, then by name, packed as they go on the wire.
    public let resources: [XDSType: [String: Google_Protobuf_Any]]

    /// An empty snapshot, before the first translation.
    public static let empty = Snapshot(version: "0", resources: [:])

    init(version: String, resources: [XDSType: [String: Google_Protobuf_Any]]) {
        self.version = version
        self.resources = resources
    }

    /// Packs typed resources after checking that they are consistent: every route configuration a listener loads
    /// over RDS exists, and every cluster a route sends to exists. Envoy would otherwise serve 404s or 503s.
    public init(
        version: String,
        clusters: [Envoy_Config_Cluster_V3_Cluster],
        listeners: [Envoy_Config_Listener_V3_Listener],
        routeConfigurations: [Envoy_Config_Route_V3_RouteConfiguration]
    ) throws(SnapshotError) {
        let clusterNames = Set(clusters.map(\.name))
        let routeNames = Set(routeConfigurations.map(\.name))
        var problems: [String] = []
        for listener in listeners {
            for chain in listener.filterChains {
                for filter in chain.filters where filter.typedConfig.isA(
                    Envoy_Extensions_Filters_Network_HttpConnectionManager_V3_HttpConnectionManager.self)
                {
                    guard let manager = try? Envoy_Extensions_Filters_Network_HttpConnectionManager_V3_HttpConnectionManager(
                        unpackingAny: filter.typedConfig)
                    else {
                        problems.append("listener \(listener.name): cannot read its HTTP connection manager")
                        continue
                    }
                    if case .rds(let rds)? = manager.routeSpecifier, !routeNames.contains(rds.routeConfigName) {
                        problems.append("listener \(listener.name) loads missing route configuration \(rds.routeConfigName)")
                    }
                }
            }
        }
        for configuration in routeConfigurations {
            for host in configuration.virtualHosts {
                for route in host.routes {
                    guard case .route(let action)? = route.action else { continue }
                    let targets: [String] =
                        switch action.clusterSpecifier {
                        case .cluster(let name): [name]
                        case .weightedClusters(let weighted): weighted.clusters.map(\.name)
                        case nil: []
                        }
                    for target in targets where !clusterNames.contains(target) {
                        problems.append("route configuration \(configuration.name) sends to missing cluster \(target)")
                    }
                }
            }
        }
        // Two resources of one type under one name: Envoy would keep one of them, and a dictionary built from them
        // would trap; refuse the snapshot instead.
        for (type, names) in [("cluster", clusters.map(\.name)), ("listener", listeners.map(\.name)),
                              ("route configuration", routeConfigurations.map(\.name))] {
            var seen = Set<String>()
            for name in names where !seen.insert(name).inserted {
                problems.append("two of \(type) \(name)")
            }
        }
        guard problems.isEmpty else { throw SnapshotError(problems: problems) }
        do {
            var resources: [XDSType: [String: Google_Protobuf_Any]] = [:]
            resources[.cluster] = try Dictionary(clusters.map { ($0.name, try Google_Protobuf_Any(message: $0)) }) { first, _ in first }
            resources[.listener] = try Dictionary(listeners.map { ($0.name, try Google_Protobuf_Any(message: $0)) }) { first, _ in first }
            resources[.routeConfiguration] = try Dictionary(
                routeConfigurations.map { ($0.name, try Google_Protobuf_Any(message: $0)) }) { first, _ in first }
            self.init(version: version, resources: resources)
        } catch {
            throw SnapshotError(problems: ["cannot encode resources: \(error)"])
        }
    }

    /// Whether the two snapshots carry the same resources (versions aside).
    public func hasSameResources(as other: Snapshot) -> Bool {
        resources == other.resources
    }
}

/// A snapshot that would leave Envoy with dangling references; it is never published.
public struct SnapshotError: Error, Sendable, CustomStringConvertible {
    public var problems: [String]
    public var description: String { "inconsistent snapshot: " + problems.joined(separator: "; ") }
}
