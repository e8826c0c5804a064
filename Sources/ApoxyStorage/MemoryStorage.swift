import Synchronization

/// An in-memory `RevisionedStorage` with full history, for unit tests and the conformance suite; not durable.
public final class MemoryStorage: RevisionedStorage {
    private struct State {
        var revision: Int64 = 0
        var objects: [String: StoredObject] = [:]
        var log: [StorageChange] = []
        /// Lists before this revision, and changes before the one just before it, are gone.
        var compacted: Int64 = 0
    }

    private let state: Mutex<State>
    /// Serialises commit-then-publish, so changes reach the broadcaster in revision order without it being
    /// called under `state`'s lock.
    private let publishing = Mutex(())
    private let broadcaster: ChangeBroadcaster

    /// Creates a store holding `initial` (each key created at its own revision, in order); see `SQLiteStorage.init`
    /// for the watch limits.
    public init(initial: [(key: String, value: [UInt8])] = [], watchHistory: Int = 10_000, watchBuffer: Int = 10_000) {
        var seeded = State()
        for (key, value) in initial {
            seeded.revision += 1
            let object = StoredObject(key: key, value: value, createRevision: seeded.revision, modRevision: seeded.revision)
            seeded.objects[key] = object
            seeded.log.append(StorageChange(kind: .put, object: object))
        }
        state = Mutex(seeded)
        broadcaster = ChangeBroadcaster(revision: seeded.revision, historyLimit: watchHistory, bufferLimit: watchBuffer)
    }

    public func watch(after revision: Int64) async throws -> ChangeStream {
        try await watch(after: revision, using: broadcaster)
    }

    public func create(key: String, value: [UInt8]) async throws -> StoredObject {
        try commit { state in
            if state.objects[key] != nil { throw StorageError(.keyExists, key: key) }
            state.revision += 1
            let object = StoredObject(key: key, value: value, createRevision: state.revision, modRevision: state.revision)
            state.objects[key] = object
            return StorageChange(kind: .put, object: object)
        }.object
    }

    /// Applies one write under the lock, then publishes it outside the lock (see `StreamSubscribers`) but still in
    /// revision order: `publishing` is held from the commit until the publish, so two writes cannot swap.
    private func commit(_ write: (inout State) throws -> StorageChange) throws -> StorageChange {
        try publishing.withLock { _ in
            let change = try state.withLock { state in
                let change = try write(&state)
                state.log.append(change)
                return change
            }
            broadcaster.publish([change])
            return change
        }
    }

    public func get(key: String) async throws -> StoredObject? {
        state.withLock { $0.objects[key] }
    }

    public func list(prefix: String, revision: Int64?, startAfter: String?, limit: Int?) async throws -> StorageListResult {
        try state.withLock { state in
            let atRevision = revision ?? state.revision
            if atRevision > state.revision { throw StorageError(.futureRevision(current: state.revision)) }
            if atRevision < state.compacted { throw StorageError(.compacted(oldest: state.compacted)) }
            var snapshot: [String: StoredObject] = [:]
            if atRevision == state.revision {
                snapshot = state.objects
            } else {
                for change in state.log where change.revision <= atRevision {
                    switch change.kind {
                    case .put: snapshot[change.object.key] = change.object
                    case .delete: snapshot[change.object.key] = nil
                    case .progress: break
                    }
                }
            }
            let keys = snapshot.keys.filter { key in key.hasPrefix(prefix) && (startAfter.map { key > $0 } ?? true) }.sorted()
            let page = limit.map { Array(keys.prefix($0)) } ?? keys
            return StorageListResult(
                items: page.map { snapshot[$0]! }, revision: atRevision, remaining: keys.count - page.count)
        }
    }

    public func update(key: String, value: [UInt8], expectedRevision: Int64) async throws -> StoredObject {
        try commit { state in
            guard let current = state.objects[key] else { throw StorageError(.keyNotFound, key: key) }
            guard current.modRevision == expectedRevision else {
                throw StorageError(.conflict(current: current), key: key)
            }
            state.revision += 1
            let object = StoredObject(key: key, value: value, createRevision: current.createRevision, modRevision: state.revision)
            state.objects[key] = object
            return StorageChange(kind: .put, object: object, previousValue: current.value)
        }.object
    }

    public func delete(key: String, expectedRevision: Int64?) async throws -> StorageChange {
        try commit { state in
            guard let current = state.objects[key] else { throw StorageError(.keyNotFound, key: key) }
            if let expectedRevision, current.modRevision != expectedRevision {
                throw StorageError(.conflict(current: current), key: key)
            }
            state.revision += 1
            state.objects[key] = nil
            var last = current
            last.modRevision = state.revision
            return StorageChange(kind: .delete, object: last)
        }
    }

    public func changes(after revision: Int64, limit: Int) async throws -> [StorageChange] {
        try state.withLock { state in
            if revision < state.compacted - 1 { throw StorageError(.compacted(oldest: state.compacted)) }
            return Array(state.log.drop(while: { $0.revision <= revision }).prefix(limit))
        }
    }

    public func currentRevision() async throws -> Int64 {
        state.withLock { $0.revision }
    }

    public func compact(before revision: Int64) async throws {
        state.withLock { state in
            let target = min(revision, state.revision)
            guard target > state.compacted else { return }
            // Keep every change from `target` on, and before it only each key's last change when it is a put: a
            // list at `target` or later still finds every live key.
            var last: [String: Int] = [:]
            for (index, change) in state.log.enumerated() where change.revision < target { last[change.object.key] = index }
            state.log = state.log.enumerated().compactMap { index, change in
                if change.revision >= target { return change }
                return last[change.object.key] == index && change.kind == .put ? change : nil
            }
            state.compacted = target
        }
    }

    public func compactedRevision() async throws -> Int64 {
        state.withLock { $0.compacted }
    }
}
