import Synchronization

/// What each connected Envoy (by node id) has acknowledged or rejected, per resource type.
public final class ProxyTracker: Sendable {
    /// One node's view of one type.
    public struct TypeState: Sendable, Equatable {
        /// The last version the node accepted.
        public var ackedVersion: String?
        /// The last version the node rejected, with Envoy's reason; cleared by a later ACK.
        public var rejected: (version: String, message: String)?

        public static func == (a: TypeState, b: TypeState) -> Bool {
            a.ackedVersion == b.ackedVersion && a.rejected?.version == b.rejected?.version
                && a.rejected?.message == b.rejected?.message
        }
    }

    /// One node: its open streams and per-type state.
    public struct NodeState: Sendable, Equatable {
        public var streams: Int = 0
        public var types: [XDSType: TypeState] = [:]
    }

    private struct State {
        var nodes: [String: NodeState] = [:]
        var subscribers: [Int: AsyncStream<Void>.Continuation] = [:]
        var nextSubscriber = 0
    }

    private let state = Mutex(State())

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
        change { $0.nodes[node, default: NodeState()].types[type, default: TypeState()].rejected = (version, message) }
    }

    /// A signal each time any node's state changes (coalesced).
    public func changes() -> AsyncStream<Void> {
        let (stream, continuation) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        let id = state.withLock { state in
            let id = state.nextSubscriber
            state.nextSubscriber += 1
            state.subscribers[id] = continuation
            return id
        }
        continuation.onTermination = { [weak self] _ in
            _ = self?.state.withLock { $0.subscribers.removeValue(forKey: id) }
        }
        return stream
    }

    /// Ends every subscriber's stream (shutdown).
    public func finish() {
        let subscribers = state.withLock { state in
            defer { state.subscribers = [:] }
            return Array(state.subscribers.values)
        }
        for subscriber in subscribers { subscriber.finish() }
    }

    private func change(_ body: (inout State) -> Void) {
        let subscribers = state.withLock { state in
            let before = state.nodes
            body(&state)
            return before == state.nodes ? [] : Array(state.subscribers.values)
        }
        for subscriber in subscribers { subscriber.yield() }
    }
}
