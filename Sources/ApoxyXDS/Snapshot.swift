public import EnvoyAPI
import Foundation
public import HashTreeCollections
public import SwiftProtobuf

/// One xDS resource as it goes on the wire, with a version that is a hash of its encoding: equal content, equal
/// version, in this process and the next (so an Envoy reconnecting with `initial_resource_versions` is not resent
/// what it already holds).
public struct XDSResource: Sendable, Equatable {
    /// The packed resource.
    public let body: Google_Protobuf_Any
    /// 64-bit FNV-1a of the encoded resource, as 16 hex digits.
    public let version: String

    /// Wraps a packed resource and computes its version.
    public init(_ body: Google_Protobuf_Any) {
        self.body = body
        self.version = Self.hash(body.value)
    }

    public static func == (lhs: XDSResource, rhs: XDSResource) -> Bool { lhs.version == rhs.version && lhs.body == rhs.body }

    static func hash(_ bytes: Data) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        bytes.withUnsafeBytes { raw in
            for byte in raw {
                hash ^= UInt64(byte)
                hash = hash &* 0x0000_0100_0000_01b3
            }
        }
        let hex = String(hash, radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }
}

/// Resources of one type by name; persistent, so a new snapshot shares every resource it did not change.
public typealias ResourceMap = TreeDictionary<String, XDSResource>

/// A change to some resources: new or changed ones by name, and names to remove, per type.
public struct ResourceUpdate: Sendable {
    /// New or changed resources, per type, by name.
    public var upserts: [XDSType: [String: Google_Protobuf_Any]] = [:]
    /// Names that no longer exist, per type.
    public var removals: [XDSType: Set<String>] = [:]

    /// An empty update.
    public init() {}

    /// Whether the update names no resource at all.
    public var isEmpty: Bool { upserts.values.allSatisfy(\.isEmpty) && removals.values.allSatisfy(\.isEmpty) }
}

/// A complete, consistent set of resources of every type, published under one version.
public struct Snapshot: Sendable {
    /// Sent as `version_info` (state of the world) and `system_version_info` (delta); increases with each snapshot.
    public let version: String
    /// Resources by type, then by name.
    public let resources: [XDSType: ResourceMap]
    /// The names changed since the snapshot before it, when this one was made from that one: delta streams that are
    /// one version behind look at these only.
    public let changes: Changes?

    /// Which names of each type changed between two versions.
    public struct Changes: Sendable {
        /// The version these changes apply to.
        public var since: String
        /// Changed, added or removed names by type.
        public var names: [XDSType: Set<String>]
    }

    /// An empty snapshot, before the first translation.
    public static let empty = Snapshot(version: "0", resources: [:], changes: nil)

    init(version: String, resources: [XDSType: ResourceMap], changes: Changes?) {
        self.version = version
        self.resources = resources
        self.changes = changes
    }

    /// Resources of one type (empty when there are none).
    public subscript(type: XDSType) -> ResourceMap { resources[type] ?? [:] }

    /// Packs typed resources after checking that they are consistent: every route configuration a listener loads
    /// over RDS exists, every cluster a route sends to exists, and every cluster that takes its endpoints over EDS has
    /// a load assignment. Envoy would otherwise serve 404s or 503s, or keep a cluster warming.
    public init(
        version: String,
        clusters: [Envoy_Config_Cluster_V3_Cluster],
        loadAssignments: [Envoy_Config_Endpoint_V3_ClusterLoadAssignment] = [],
        listeners: [Envoy_Config_Listener_V3_Listener],
        routeConfigurations: [Envoy_Config_Route_V3_RouteConfiguration]
    ) throws(SnapshotError) {
        let problems = Self.problems(
            clusters: clusters, loadAssignments: loadAssignments, listeners: listeners,
            routeConfigurations: routeConfigurations)
        guard problems.isEmpty else { throw SnapshotError(problems: problems) }
        do {
            func pack(_ named: [(String, some SwiftProtobuf.Message)]) throws -> ResourceMap {
                // Names are unique: `problems` refused duplicates.
                ResourceMap(uniqueKeysWithValues: try named.map { ($0.0, XDSResource(try Google_Protobuf_Any(message: $0.1))) })
            }
            var resources: [XDSType: ResourceMap] = [:]
            resources[.cluster] = try pack(clusters.map { ($0.name, $0) })
            resources[.endpoint] = try pack(loadAssignments.map { ($0.clusterName, $0) })
            resources[.listener] = try pack(listeners.map { ($0.name, $0) })
            resources[.routeConfiguration] = try pack(routeConfigurations.map { ($0.name, $0) })
            self.init(version: version, resources: resources, changes: nil)
        } catch {
            throw SnapshotError(problems: ["cannot encode resources: \(error)"])
        }
    }

    /// Dangling references and duplicate names among typed resources; empty when they are consistent.
    static func problems(
        clusters: [Envoy_Config_Cluster_V3_Cluster], loadAssignments: [Envoy_Config_Endpoint_V3_ClusterLoadAssignment],
        listeners: [Envoy_Config_Listener_V3_Listener], routeConfigurations: [Envoy_Config_Route_V3_RouteConfiguration]
    ) -> [String] {
        let clusterNames = Set(clusters.map(\.name))
        let routeNames = Set(routeConfigurations.map(\.name))
        let assignmentNames = Set(loadAssignments.map(\.clusterName))
        var problems: [String] = []
        for cluster in clusters where cluster.type == .eds {
            let service = cluster.edsClusterConfig.serviceName.isEmpty ? cluster.name : cluster.edsClusterConfig.serviceName
            if !assignmentNames.contains(service) {
                problems.append("cluster \(cluster.name) takes its endpoints over EDS but load assignment \(service) is missing")
            }
        }
        for listener in listeners {
            for chain in listener.filterChains {
                for filter in chain.filters
                where filter.typedConfig.isA(
                    Envoy_Extensions_Filters_Network_HttpConnectionManager_V3_HttpConnectionManager.self)
                {
                    guard
                        let manager = try? Envoy_Extensions_Filters_Network_HttpConnectionManager_V3_HttpConnectionManager(
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
        // Two resources of one type under one name: Envoy would keep one of them, and a map built from them would
        // trap; refuse the snapshot instead.
        for (type, names) in [
            ("cluster", clusters.map(\.name)), ("load assignment", loadAssignments.map(\.clusterName)),
            ("listener", listeners.map(\.name)), ("route configuration", routeConfigurations.map(\.name)),
        ] {
            var seen = Set<String>()
            for name in names where !seen.insert(name).inserted {
                problems.append("two of \(type) \(name)")
            }
        }
        return problems
    }

    /// This snapshot's resources under another version, with what changed since `previous`.
    func replacing(_ previous: Snapshot, version: String) -> Snapshot {
        var names: [XDSType: Set<String>] = [:]
        for type in XDSType.allCases {
            let (old, new) = (previous[type], self[type])
            var changed = Set<String>()
            for (name, resource) in new where old[name]?.version != resource.version { changed.insert(name) }
            for (name, _) in old where new[name] == nil { changed.insert(name) }
            if !changed.isEmpty { names[type] = changed }
        }
        return Snapshot(version: version, resources: resources, changes: Changes(since: previous.version, names: names))
    }

    /// This snapshot with `update` applied under `version`, or nil when the update changes nothing.
    func applying(_ update: ResourceUpdate, version: String) -> Snapshot? {
        var resources = self.resources
        var names: [XDSType: Set<String>] = [:]
        for type in XDSType.allCases {
            var map = self[type]
            var changed = Set<String>()
            for (name, body) in update.upserts[type] ?? [:] {
                let resource = XDSResource(body)
                if map[name]?.version != resource.version {
                    map[name] = resource
                    changed.insert(name)
                }
            }
            for name in update.removals[type] ?? [] where map.removeValue(forKey: name) != nil { changed.insert(name) }
            if !changed.isEmpty {
                names[type] = changed
                resources[type] = map
            }
        }
        guard !names.isEmpty else { return nil }
        return Snapshot(version: version, resources: resources, changes: Changes(since: self.version, names: names))
    }
}

/// A snapshot that would leave Envoy with dangling references; it is never published.
public struct SnapshotError: Error, Sendable, CustomStringConvertible {
    public var problems: [String]
    public var description: String { "inconsistent snapshot: " + problems.joined(separator: "; ") }
}
