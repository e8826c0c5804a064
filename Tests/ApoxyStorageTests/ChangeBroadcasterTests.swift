import ApoxyStorage
import Testing

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
        try await withThrowingTaskGroup(of: Void.self) { outer in
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
