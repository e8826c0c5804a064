import Synchronization

/// The changes after a revision, in order, then live ones. It ends with an error when its subscriber falls
/// too far behind (bounded memory: a stuck reader never slows writers or other readers).
public typealias ChangeStream = AsyncThrowingStream<StorageChange, any Error>

/// Fans the ordered change log out to subscribers, keeping a bounded window of recent history in memory so a
/// subscriber can start from a recent revision without reading storage.
public final class ChangeBroadcaster: Sendable {
    private struct State {
        var revision: Int64
        /// Recent changes in revision order (`historyStart` marks the first live entry).
        var history: [StorageChange] = []
        var historyStart = 0
        var subscribers = StreamSubscribers<StorageChange>()

        var retained: ArraySlice<StorageChange> { history[historyStart...] }
    }

    private let state: Mutex<State>
    private let historyLimit: Int
    private let bufferLimit: Int

    /// Creates a broadcaster whose last published revision is `revision`.
    public init(revision: Int64, historyLimit: Int = 10_000, bufferLimit: Int = 10_000) {
        state = Mutex(State(revision: revision))
        self.historyLimit = historyLimit
        self.bufferLimit = bufferLimit
    }

    /// The last published revision.
    public var revision: Int64 { state.withLock { $0.revision } }

    /// Number of live subscribers.
    public var subscriberCount: Int { state.withLock { $0.subscribers.count } }

    /// Publishes committed changes, in revision order. Never blocks on subscribers.
    public func publish(_ changes: [StorageChange]) {
        guard !changes.isEmpty else { return }
        // Deliver outside the lock (see StreamSubscribers). Publishes come from the one writer thread, so yields stay
        // in revision order; a subscriber added after the history was appended gets these changes from its backlog.
        let subscribers = state.withLock { state in
            state.history.append(contentsOf: changes)
            state.revision = changes[changes.count - 1].revision
            if state.history.count - state.historyStart > historyLimit {
                state.historyStart = state.history.count - historyLimit
                // Compact the backing array once the dead prefix is as large as the live window.
                if state.historyStart >= historyLimit {
                    state.history.removeFirst(state.historyStart)
                    state.historyStart = 0
                }
            }
            return state.subscribers.all
        }
        let slow = StreamSubscribers.deliver(changes, to: subscribers)
        let cutOff = slow.isEmpty ? [] : state.withLock { $0.subscribers.remove(slow) }
        for continuation in cutOff {
            continuation.finish(throwing: StorageError(.unavailable, message: "watcher fell more than \(bufferLimit) changes behind"))
        }
    }

    /// Subscribes to changes after `revision`, delivering `backlog` (changes read from storage, ending at or after
    /// `revision`) first. Returns nil when memory no longer holds the changes right after the backlog.
    public func subscribe(after revision: Int64, backlog: [StorageChange] = []) -> ChangeStream? {
        state.withLock { state -> ChangeStream? in
            let from = backlog.last?.revision ?? revision
            let retained = state.retained
            if from < state.revision {
                guard let first = retained.first, first.revision <= from + 1 else { return nil }
            }
            let (stream, continuation) = ChangeStream.makeStream(bufferingPolicy: .bufferingOldest(bufferLimit + backlog.count))
            for change in backlog where change.revision > revision { continuation.yield(change) }
            for change in retained where change.revision > from { continuation.yield(change) }
            let id = state.subscribers.add(continuation)
            continuation.onTermination = { [weak self] _ in
                _ = self?.state.withLock { $0.subscribers.remove([id]) }
            }
            return stream
        }
    }

    /// Ends every subscription with `error` (storage is closing).
    public func finishAll(throwing error: any Error) {
        let subscribers = state.withLock { $0.subscribers.removeAll() }
        for continuation in subscribers { continuation.finish(throwing: error) }
    }
}

/// How many empty reads of the change log a watch tolerates while memory is ahead of it (about 0.2 s).
private let emptyChangeLogReadsBeforeGivingUp = 100

extension RevisionedStorage {
    /// A watch built from a broadcaster plus the storage's persisted change log for revisions memory no longer holds.
    func watch(after revision: Int64, using broadcaster: ChangeBroadcaster) async throws -> ChangeStream {
        let compacted = try await compactedRevision()
        if revision < compacted - 1 { throw StorageError(.compacted(oldest: compacted)) }
        var cursor = revision
        var backlog: [StorageChange] = []
        var emptyReads = 0
        while true {
            if let stream = broadcaster.subscribe(after: revision, backlog: backlog) { return stream }
            let page = try await changes(after: cursor, limit: 50_000)
            guard let last = page.last else {
                // Memory has moved past `cursor` but the log shows nothing after it: a commit not readable yet, or
                // compaction took it. Each round either reads a page or counts towards giving up, so this ends.
                emptyReads += 1
                let oldest = try await compactedRevision()
                if cursor < oldest - 1 { throw StorageError(.compacted(oldest: oldest)) }
                if emptyReads >= emptyChangeLogReadsBeforeGivingUp {
                    throw StorageError(
                        .unavailable, message: "the change log has nothing after revision \(cursor), which watchers have passed")
                }
                try await Task.sleep(for: .milliseconds(2))
                continue
            }
            emptyReads = 0
            backlog += page
            cursor = last.revision
        }
    }
}
