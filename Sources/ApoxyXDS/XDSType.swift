import EnvoyAPI
import SwiftProtobuf

/// The xDS resource types served over ADS, in the order a change is pushed (clusters, then their endpoints, before
/// the listeners and routes that use them).
public enum XDSType: String, Sendable, Hashable, CaseIterable, Comparable {
    case cluster = "type.googleapis.com/envoy.config.cluster.v3.Cluster"
    case endpoint = "type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment"
    case listener = "type.googleapis.com/envoy.config.listener.v3.Listener"
    case routeConfiguration = "type.googleapis.com/envoy.config.route.v3.RouteConfiguration"

    /// Short name for logs and status messages (CDS, EDS, LDS, RDS).
    public var shortName: String {
        switch self {
        case .cluster: "CDS"
        case .endpoint: "EDS"
        case .listener: "LDS"
        case .routeConfiguration: "RDS"
        }
    }

    /// Whether Envoy subscribes to every resource of the type (true) or names the ones it wants (EDS, RDS).
    var isWildcard: Bool { self == .cluster || self == .listener }

    public static func < (lhs: XDSType, rhs: XDSType) -> Bool {
        allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)!
    }
}
