import Synchronization

/// What each connected Envoy (by node id) has acknowledged or rejected, per resource type.
public final class ProxyTracker: Sendable {
    /// A version Envoy refused, and why.
    public struct Rejection: Sendable, Equatable {
        public var version: String
        public var message: String
    }

    /// One node's view of one type.
    public struct TypeState: Sendable, Equatable {
        /// The last version the node accepted.
        public var ackedVersion: String?
        /// The last version the node rejected, with Envoy's reason; cleared by a later ACK.
        public var rejected: Rejection?
    }

    /// One node: its open streams and per-type state.
    public struct NodeState: Sendable, Equatable {
        public var streams: Int = 0
        public var types: [XDSType: TypeState] = [:]
    }

    private struct State {
        var nodes: [String: NodeState] = [:]
    }

    private let state = Mutex(State())
    private let subscribers = LatestValueSubscribers<Void>()

    /// Creates an empty tracker.
    public init() {}

    /// The nodes with at least one open stream.
    public var connectedNodes: [String: NodeState] {
        state.withLock { $0.nodes.filter { $0.value.streams > 0 } }
    }

    /// One node's state, open streams or not.
    public func nodeState(_ node: String) -> NodeState? { state.withLock { $0.nodes[node] } }

    func streamOpened(node: String) { change { $0.nodes[node, default: NodeState()].streams += 1 } }
    func streamClosed(node: String) { change { $0.nodes[node, default: NodeState()].streams -= 1 } }

    func acknowledged(node: String, type: XDSType, version: String) {
        change {
            $0.nodes[node, default: NodeState()].types[type, default: TypeState()].ackedVersion = version
            $0.nodes[node, default: NodeState()].types[type, default: TypeState()].rejected = nil
        }
    }

    func rejected(node: String, type: XDSType, version: String, message: String) {
        change { $0.nodes[node, default: NodeState()].types[type, default: TypeState()].rejected = Rejection(version: version, message: message) }
    }

    /// A signal each time any node's state changes (coalesced).
    public func changes() -> AsyncStream<Void> { subscribers.subscribe() }

    /// Ends every subscriber's stream (shutdown).
    public func finish() { subscribers.finish() }

    private func change(_ body: (inout State) -> Void) {
        let changed = state.withLock { state in
            let before = state.nodes
            body(&state)
            return before != state.nodes
        }
        if changed { subscribers.yield(()) }
    }
}
