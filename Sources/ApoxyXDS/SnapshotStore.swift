import Synchronization

/// Holds the current snapshot and tells every ADS stream about new ones. Each subscriber sees only the latest
/// snapshot: versions published while it was busy are coalesced.
public final class SnapshotStore: Sendable {
    private struct State {
        var current: Snapshot = .empty
        var nextVersion: UInt64 = 1
        var subscribers: [Int: AsyncStream<Snapshot>.Continuation] = [:]
        var nextSubscriber = 0
    }

    private let state = Mutex(State())

    /// Creates a store holding the empty snapshot.
    public init() {}

    /// The snapshot streams are serving now.
    public var current: Snapshot { state.withLock { $0.current } }

    /// The version the next published snapshot gets.
    public func nextVersion() -> String { state.withLock { String($0.nextVersion) } }

    /// Publishes a snapshot built with `nextVersion()`; returns false (and publishes nothing) when its resources
    /// equal the current ones, so that Envoy sees no empty updates.
    @discardableResult
    public func publish(_ snapshot: Snapshot) -> Bool {
        let subscribers: [AsyncStream<Snapshot>.Continuation]? = state.withLock { state in
            guard !snapshot.hasSameResources(as: state.current) else { return nil }
            state.current = snapshot
            state.nextVersion = (UInt64(snapshot.version) ?? state.nextVersion) + 1
            return Array(state.subscribers.values)
        }
        guard let subscribers else { return false }
        for subscriber in subscribers { subscriber.yield(snapshot) }
        return true
    }

    /// A stream of snapshots from now on, starting with the current one.
    public func updates() -> AsyncStream<Snapshot> {
        let (stream, continuation) = AsyncStream.makeStream(of: Snapshot.self, bufferingPolicy: .bufferingNewest(1))
        let id = state.withLock { state in
            let id = state.nextSubscriber
            state.nextSubscriber += 1
            state.subscribers[id] = continuation
            continuation.yield(state.current)
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
}
