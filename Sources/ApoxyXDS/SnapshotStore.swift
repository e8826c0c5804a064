import Synchronization

/// Holds the current snapshot and tells every ADS stream about new ones. Each subscriber sees only the latest
/// snapshot: versions published while it was busy are coalesced.
public final class SnapshotStore: Sendable {
    private struct State {
        var current: Snapshot = .empty
        var nextVersion: UInt64 = 1
        /// When the translation of recent versions began, for the propagation metric; the last few only.
        var started: [(version: String, at: ContinuousClock.Instant)] = []
    }

    private let state = Mutex(State())
    private let subscribers = LatestValueSubscribers<Snapshot>()

    /// Creates a store holding the empty snapshot.
    public init() {}

    /// The snapshot streams are serving now.
    public var current: Snapshot { state.withLock { $0.current } }

    /// The version the next published snapshot gets.
    public func nextVersion() -> String { state.withLock { String($0.nextVersion) } }

    /// Publishes a snapshot built with `nextVersion()`; returns false (and publishes nothing) when its resources
    /// equal the current ones, so that Envoy sees no empty updates.
    /// `startedAt` is when the translation that made it began.
    @discardableResult
    public func publish(_ snapshot: Snapshot, startedAt: ContinuousClock.Instant = .now) -> Bool {
        let changed = state.withLock { state in
            guard !snapshot.hasSameResources(as: state.current) else { return false }
            state.current = snapshot
            state.nextVersion = (UInt64(snapshot.version) ?? state.nextVersion) + 1
            state.started.append((snapshot.version, startedAt))
            if state.started.count > 16 { state.started.removeFirst() }
            return true
        }
        // A stream subscribing meanwhile may get this snapshot twice; a session ignores a version it already sent.
        if changed { subscribers.yield(snapshot) }
        return changed
    }

    /// When the translation of `version` began, if it is recent.
    func startedAt(version: String) -> ContinuousClock.Instant? {
        state.withLock { $0.started.last { $0.version == version }?.at }
    }

    /// A stream of snapshots from now on, starting with the current one.
    public func updates() -> AsyncStream<Snapshot> {
        state.withLock { subscribers.subscribe(startingWith: $0.current) }
    }

    /// Ends every subscriber's stream (shutdown).
    public func finish() { subscribers.finish() }
}
