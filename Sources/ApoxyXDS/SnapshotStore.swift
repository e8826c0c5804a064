import Synchronization

/// Holds the current snapshot, gives each published one the next version, and tells every ADS stream about new
/// ones. Each subscriber sees only the latest snapshot: versions published while it was busy are coalesced.
public final class SnapshotStore: Sendable {
    private struct State {
        var current: Snapshot = .empty
        var lastVersion: UInt64 = 0
        /// When the translation of recent versions began, for the propagation metric; the last few only.
        var started: [(version: String, at: ContinuousClock.Instant)] = []

        mutating func publish(_ make: (Snapshot, String) -> Snapshot?, startedAt: ContinuousClock.Instant) -> Snapshot? {
            let version = String(lastVersion + 1)
            guard let snapshot = make(current, version) else { return nil }
            lastVersion += 1
            current = snapshot
            started.append((version, startedAt))
            if started.count > 16 { started.removeFirst() }
            return snapshot
        }
    }

    private let state = Mutex(State())
    private let subscribers = LatestValueSubscribers<Snapshot>()

    /// Creates a store holding the empty snapshot.
    public init() {}

    /// The snapshot streams are serving now.
    public var current: Snapshot { state.withLock { $0.current } }

    /// Publishes the resources of `snapshot` (whatever version it carries) under the next version; returns that
    /// version, or nil (publishing nothing) when they equal the current ones, so that Envoy sees no empty updates.
    /// `startedAt` is when the translation that made it began.
    @discardableResult
    public func publish(_ snapshot: Snapshot, startedAt: ContinuousClock.Instant = .now) -> String? {
        publish(startedAt: startedAt) { current, version in
            // One pass over every resource finds both whether anything changed and what did.
            let next = snapshot.replacing(current, version: version)
            return next.changes?.names.isEmpty ?? true ? nil : next
        }
    }

    /// Applies a change to the current resources and publishes the result under the next version; returns that
    /// version, or nil when the update changes nothing.
    @discardableResult
    public func apply(_ update: ResourceUpdate, startedAt: ContinuousClock.Instant = .now) -> String? {
        publish(startedAt: startedAt) { current, version in current.applying(update, version: version) }
    }

    private func publish(startedAt: ContinuousClock.Instant, _ make: (Snapshot, String) -> Snapshot?) -> String? {
        let published = state.withLock { $0.publish(make, startedAt: startedAt) }
        // A stream subscribing meanwhile may get this snapshot twice; a session ignores a version it already sent.
        guard let published else { return nil }
        subscribers.yield(published)
        return published.version
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
