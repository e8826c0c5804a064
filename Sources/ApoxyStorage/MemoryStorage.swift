import Synchronization

/// An in-memory `RevisionedStorage` with full history, for unit tests and the conformance suite; not durable.
public final class MemoryStorage: RevisionedStorage {
    private struct State {
        var revision: Int64 = 0
        var objects: [String: StoredObject] = [:]
        var log: [StorageChange] = []
    }

    private let state = Mutex(State())
    private let broadcaster: ChangeBroadcaster

    /// Creates an empty store; see `SQLiteStorage.init` for the watch limits.
    public init(watchHistory: Int = 10_000, watchBuffer: Int = 10_000) {
        broadcaster = ChangeBroadcaster(revision: 0, historyLimit: watchHistory, bufferLimit: watchBuffer)
    }

    public func watch(after revision: Int64) async throws -> ChangeStream {
        try await watch(after: revision, using: broadcaster)
    }

    public func create(key: String, value: [UInt8]) async throws -> StoredObject {
        try state.withLock { state in
            if state.objects[key] != nil { throw StorageError(.keyExists, key: key) }
            state.revision += 1
            let object = StoredObject(key: key, value: value, createRevision: state.revision, modRevision: state.revision)
            state.objects[key] = object
            state.log.append(StorageChange(kind: .put, object: object))
            broadcaster.publish([state.log[state.log.count - 1]])
            return object
        }
    }

    public func get(key: String) async throws -> StoredObject? {
        state.withLock { $0.objects[key] }
    }

    public func list(prefix: String, revision: Int64?, startAfter: String?, limit: Int?) async throws -> StorageListResult {
        try state.withLock { state in
            let atRevision = revision ?? state.revision
            if atRevision > state.revision { throw StorageError(.futureRevision(current: state.revision)) }
            var snapshot: [String: StoredObject] = [:]
            if atRevision == state.revision {
                snapshot = state.objects
            } else {
                for change in state.log where change.revision <= atRevision {
                    switch change.kind {
                    case .put: snapshot[change.object.key] = change.object
                    case .delete: snapshot[change.object.key] = nil
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
        try state.withLock { state in
            guard let current = state.objects[key] else { throw StorageError(.keyNotFound, key: key) }
            guard current.modRevision == expectedRevision else {
                throw StorageError(.conflict(current: current), key: key)
            }
            state.revision += 1
            let object = StoredObject(key: key, value: value, createRevision: current.createRevision, modRevision: state.revision)
            state.objects[key] = object
            state.log.append(StorageChange(kind: .put, object: object, previousValue: current.value))
            broadcaster.publish([state.log[state.log.count - 1]])
            return object
        }
    }

    public func delete(key: String, expectedRevision: Int64?) async throws -> StorageChange {
        try state.withLock { state in
            guard let current = state.objects[key] else { throw StorageError(.keyNotFound, key: key) }
            if let expectedRevision, current.modRevision != expectedRevision {
                throw StorageError(.conflict(current: current), key: key)
            }
            state.revision += 1
            state.objects[key] = nil
            var last = current
            last.modRevision = state.revision
            let change = StorageChange(kind: .delete, object: last)
            state.log.append(change)
            broadcaster.publish([change])
            return change
        }
    }

    public func changes(after revision: Int64, limit: Int) async throws -> [StorageChange] {
        state.withLock { state in
            Array(state.log.drop(while: { $0.revision <= revision }).prefix(limit))
        }
    }

    public func currentRevision() async throws -> Int64 {
        state.withLock { $0.revision }
    }
}
