import Testing

@testable import ApoxyStorage

@Suite struct ChangeBroadcasterTests {
    static func change(_ revision: Int64) -> StorageChange {
        StorageChange(kind: .put, object: StoredObject(key: "/k/\(revision)", value: [], createRevision: revision, modRevision: revision))
    }

    /// The publisher can run past the small history between reading the revision and subscribing: retry then.
    static func subscribeAtCurrentRevision(_ broadcaster: ChangeBroadcaster) -> ChangeStream {
        while true {
            if let stream = broadcaster.subscribe(after: broadcaster.revision) { return stream }
        }
    }

    /// Watchers cancelled while they wait, as changes are published. Publishing used to yield under the
    /// broadcaster's lock: resuming a watcher takes its task's status lock, while cancelling that task holds the
    /// status lock and its stream's onTermination takes the broadcaster's lock, so the two could deadlock (the
    /// benchmark hung on it). With the bug this test hangs until its time limit fails it.
    @Test(.timeLimit(.minutes(1)))
    func cancellingWatchersWhilePublishingDoesNotDeadlock() async throws {
        let broadcaster = ChangeBroadcaster(revision: 0, historyLimit: 100, bufferLimit: 100_000)
        let rounds = 300
        await withTaskGroup(of: Void.self) { outer in
            outer.addTask {
                var revision: Int64 = 0
                while !Task.isCancelled {
                    revision += 1
                    broadcaster.publish([Self.change(revision)])
                    if revision % 64 == 0 { await Task.yield() }
                }
            }
            for _ in 0..<rounds {
                await withTaskGroup(of: Void.self) { watchers in
                    for _ in 0..<8 {
                        let stream = Self.subscribeAtCurrentRevision(broadcaster)
                        watchers.addTask {
                            do {
                                for try await _ in stream {}
                            } catch {}
                        }
                    }
                    await Task.yield()
                    watchers.cancelAll()
                }
            }
            outer.cancelAll()
        }
        // Every cancelled watcher unsubscribed.
        #expect(broadcaster.subscriberCount == 0)
    }
}

/// A storage whose change log shows nothing (as when a commit is not readable yet): every other call goes to memory.
private struct EmptyChangeLogStorage: RevisionedStorage {
    let inner = MemoryStorage()
    let broadcaster: ChangeBroadcaster

    func create(key: String, value: [UInt8]) async throws -> StoredObject { try await inner.create(key: key, value: value) }
    func get(key: String) async throws -> StoredObject? { try await inner.get(key: key) }
    func list(prefix: String, revision: Int64?, startAfter: String?, limit: Int?) async throws -> StorageListResult {
        try await inner.list(prefix: prefix, revision: revision, startAfter: startAfter, limit: limit)
    }
    func update(key: String, value: [UInt8], expectedRevision: Int64) async throws -> StoredObject {
        try await inner.update(key: key, value: value, expectedRevision: expectedRevision)
    }
    func delete(key: String, expectedRevision: Int64?) async throws -> StorageChange {
        try await inner.delete(key: key, expectedRevision: expectedRevision)
    }
    func changes(after revision: Int64, limit: Int) async throws -> [StorageChange] { [] }
    func currentRevision() async throws -> Int64 { broadcaster.revision }
    func watch(after revision: Int64) async throws -> ChangeStream { try await watch(after: revision, using: broadcaster) }
    func compact(before revision: Int64) async throws {}
    func compactedRevision() async throws -> Int64 { 0 }
}

@Suite struct ChangeLogCatchUpTests {
    /// Memory holds only the newest changes and the log shows none of the older ones: the watch used to re-read the
    /// empty log forever (a busy loop that never ended); now it gives up with 503-style `unavailable`.
    @Test(.timeLimit(.minutes(1)))
    func aWatchThatCannotCatchUpFailsInsteadOfSpinning() async throws {
        let broadcaster = ChangeBroadcaster(revision: 0, historyLimit: 2)
        broadcaster.publish((1...5).map(ChangeBroadcasterTests.change))
        let storage = EmptyChangeLogStorage(broadcaster: broadcaster)
        let started = ContinuousClock.now
        await #expect(throws: StorageError.self) { _ = try await storage.watch(after: 1) }
        // A guard against the old endless loop, not a timing assertion: the retries' backoff takes a few seconds,
        // more on a loaded machine.
        #expect(ContinuousClock.now - started < .seconds(40))
        // Within what memory holds, the same watch works.
        let stream = try await storage.watch(after: 3)
        var iterator = stream.makeAsyncIterator()
        #expect(try await iterator.next()?.revision == 4)
    }
}
