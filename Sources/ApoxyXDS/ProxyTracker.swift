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
        /// When the node first acknowledged each recent version (the last 32), for propagation times.
        public var acks: [(version: UInt64, at: ContinuousClock.Instant)] = []

        /// When the node first acknowledged `version` or a later one, if that is recent.
        public func acknowledgedAt(atLeast version: UInt64) -> ContinuousClock.Instant? {
            acks.first { $0.version >= version }?.at
        }

        public static func == (lhs: TypeState, rhs: TypeState) -> Bool {
            lhs.ackedVersion == rhs.ackedVersion && lhs.rejected == rhs.rejected
                && lhs.acks.map(\.version) == rhs.acks.map(\.version) && lhs.acks.map(\.at) == rhs.acks.map(\.at)
        }
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

    func acknowledged(node: String, type: XDSType, version: String, at instant: ContinuousClock.Instant = .now) {
        change {
            var state = $0.nodes[node, default: NodeState()].types[type, default: TypeState()]
            state.ackedVersion = version
            state.rejected = nil
            if let number = UInt64(version), number > (state.acks.last?.version ?? 0) {
                state.acks.append((number, instant))
                if state.acks.count > 32 { state.acks.removeFirst(state.acks.count - 32) }
            }
            $0.nodes[node, default: NodeState()].types[type] = state
        }
    }

    func rejected(node: String, type: XDSType, version: String, message: String) {
        change {
            $0.nodes[node, default: NodeState()].types[type, default: TypeState()].rejected = Rejection(version: version, message: message)
        }
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
