@testable import ApoxyXDS

extension ProxyTracker.NodeState {
    /// A proxy with one stream that has acknowledged `version` of every xDS type.
    static func acknowledging(_ version: String) -> Self {
        var node = Self()
        node.streams = 1
        for type in XDSType.allCases { node.types[type] = .init(ackedVersion: version, rejected: nil) }
        return node
    }
}
