import ApoxyStorage
import ApoxyTestSupport
import Foundation
import Logging
import Testing

/// The contract every `RevisionedStorage` backend meets (cf. k8s.io/apiserver/pkg/storage/testing): memory,
/// SQLite and a real etcd run the same cases. Revisions are read relative to the store's revision at the start
/// (`base`), since etcd's revision is cluster-wide and starts at 1. Serialized: the etcd cases share one member,
/// and a case that counts revisions must not see another case's writes.
@Suite("Storage conformance", .serialized, .timeLimit(.minutes(2)))
struct StorageConformanceTests {
    @Test(arguments: StorageFixture.all)
    func createThenGet(_ fixture: StorageFixture) async throws {
        try await fixture.with { storage in
            let base = try await storage.currentRevision()
            let created = try await storage.create(key: "/a/one", value: bytes("1"))
            #expect(created.createRevision == base + 1)
            #expect(created.modRevision == base + 1)
            let fetched = try await storage.get(key: "/a/one")
            #expect(fetched == created)
            #expect(try await storage.get(key: "/a/missing") == nil)
            #expect(try await storage.currentRevision() == base + 1)
        }
    }

    @Test(arguments: StorageFixture.all)
    func createExistingKeyFails(_ fixture: StorageFixture) async throws {
        try await fixture.with { storage in
            let base = try await storage.currentRevision()
            _ = try await storage.create(key: "/a/one", value: bytes("1"))
            await #expect(throws: StorageError(.keyExists, key: "/a/one")) {
                _ = try await storage.create(key: "/a/one", value: bytes("2"))
            }
            #expect(try await storage.get(key: "/a/one")?.value == bytes("1"))
            #expect(try await storage.currentRevision() == base + 1, "a failed write must not consume a revision")
        }
    }

    @Test(arguments: StorageFixture.all)
    func updateIsGuardedByRevision(_ fixture: StorageFixture) async throws {
        try await fixture.with { storage in
            let base = try await storage.currentRevision()
            let created = try await storage.create(key: "/a/one", value: bytes("1"))
            _ = try await storage.create(key: "/a/two", value: bytes("x"))
            let updated = try await storage.update(key: "/a/one", value: bytes("2"), expectedRevision: created.modRevision)
            #expect(updated.modRevision == base + 3)
            #expect(updated.createRevision == base + 1)
            do {
                _ = try await storage.update(key: "/a/one", value: bytes("3"), expectedRevision: created.modRevision)
                Issue.record("stale update succeeded")
            } catch let error as StorageError {
                #expect(error.code == .conflict(current: updated))
            }
            await #expect(throws: StorageError(.keyNotFound, key: "/a/none")) {
                _ = try await storage.update(key: "/a/none", value: bytes("3"), expectedRevision: 1)
            }
            #expect(try await storage.get(key: "/a/one")?.value == bytes("2"))
        }
    }

    @Test(arguments: StorageFixture.all)
    func deleteIsGuardedByRevision(_ fixture: StorageFixture) async throws {
        try await fixture.with { storage in
            let base = try await storage.currentRevision()
            let created = try await storage.create(key: "/a/one", value: bytes("1"))
            let updated = try await storage.update(key: "/a/one", value: bytes("2"), expectedRevision: created.modRevision)
            do {
                _ = try await storage.delete(key: "/a/one", expectedRevision: created.modRevision)
                Issue.record("stale delete succeeded")
            } catch let error as StorageError {
                #expect(error.code == .conflict(current: updated))
            }
            let deleted = try await storage.delete(key: "/a/one", expectedRevision: updated.modRevision)
            #expect(deleted.kind == .delete)
            #expect(deleted.revision == base + 3)
            #expect(deleted.object.value == bytes("2"))
            #expect(deleted.object.createRevision == base + 1)
            #expect(try await storage.get(key: "/a/one") == nil)
            await #expect(throws: StorageError(.keyNotFound, key: "/a/one")) {
                _ = try await storage.delete(key: "/a/one", expectedRevision: nil)
            }
            // A key can be created again after deletion, with a new createRevision.
            let again = try await storage.create(key: "/a/one", value: bytes("3"))
            #expect(again.createRevision == base + 4)
        }
    }

    @Test(arguments: StorageFixture.all)
    func listIsOrderedPagedAndPrefixed(_ fixture: StorageFixture) async throws {
        try await fixture.with { storage in
            let base = try await storage.currentRevision()
            for name in ["c", "a", "e", "b", "d"] {
                _ = try await storage.create(key: "/items/\(name)", value: bytes(name))
            }
            _ = try await storage.create(key: "/itemsx/z", value: bytes("z"))
            _ = try await storage.create(key: "/other/a", value: bytes("o"))
            let all = try await storage.list(prefix: "/items/")
            #expect(all.items.map(\.key) == ["/items/a", "/items/b", "/items/c", "/items/d", "/items/e"])
            #expect(all.revision == base + 7)
            #expect(all.remaining == 0)
            let first = try await storage.list(prefix: "/items/", revision: nil, startAfter: nil, limit: 2)
            #expect(first.items.map(\.key) == ["/items/a", "/items/b"])
            #expect(first.remaining == 3)
            // Later pages read the first page's revision, whatever was written since.
            _ = try await storage.create(key: "/items/bb", value: bytes("late"))
            let second = try await storage.list(prefix: "/items/", revision: first.revision, startAfter: "/items/b", limit: 2)
            #expect(second.items.map(\.key) == ["/items/c", "/items/d"])
            #expect(second.remaining == 1)
            let last = try await storage.list(prefix: "/items/", revision: first.revision, startAfter: "/items/d", limit: 2)
            #expect(last.items.map(\.key) == ["/items/e"])
            #expect(last.remaining == 0)
        }
    }

    @Test(arguments: StorageFixture.all)
    func listAtAnOlderRevisionSeesThePast(_ fixture: StorageFixture) async throws {
        try await fixture.with { storage in
            let base = try await storage.currentRevision()
            let a = try await storage.create(key: "/i/a", value: bytes("a1"))
            _ = try await storage.create(key: "/i/b", value: bytes("b1"))
            let snapshot = try await storage.currentRevision()
            _ = try await storage.update(key: "/i/a", value: bytes("a2"), expectedRevision: a.modRevision)
            _ = try await storage.delete(key: "/i/b", expectedRevision: nil)
            _ = try await storage.create(key: "/i/c", value: bytes("c1"))
            let past = try await storage.list(prefix: "/i/", revision: snapshot, startAfter: nil, limit: nil)
            #expect(past.items.map(\.key) == ["/i/a", "/i/b"])
            #expect(past.items.map { String(decoding: $0.value, as: UTF8.self) } == ["a1", "b1"])
            #expect(past.revision == snapshot)
            let now = try await storage.list(prefix: "/i/")
            #expect(now.items.map { String(decoding: $0.value, as: UTF8.self) } == ["a2", "c1"])
            do {
                _ = try await storage.list(prefix: "/i/", revision: base + 99, startAfter: nil, limit: nil)
                Issue.record("future revision listed")
            } catch let error as StorageError {
                #expect(error.code == .futureRevision(current: base + 5))
            }
        }
    }

    @Test(arguments: StorageFixture.all)
    func changeLogIsOrderedAndComplete(_ fixture: StorageFixture) async throws {
        try await fixture.with { storage in
            let base = try await storage.currentRevision()
            let a = try await storage.create(key: "/i/a", value: bytes("a1"))
            _ = try await storage.update(key: "/i/a", value: bytes("a2"), expectedRevision: a.modRevision)
            _ = try await storage.delete(key: "/i/a", expectedRevision: nil)
            let changes = try await storage.changes(after: base, limit: 100)
            #expect(changes.map(\.revision) == [base + 1, base + 2, base + 3])
            #expect(changes.map(\.kind) == [.put, .put, .delete])
            #expect(changes[0].previousValue == nil)
            #expect(changes[1].previousValue == bytes("a1"))
            #expect(changes[2].object.value == bytes("a2"))
            #expect(try await storage.changes(after: base + 2, limit: 100).map(\.revision) == [base + 3])
            #expect(try await storage.changes(after: base, limit: 2).count == 2)
            #expect(try await storage.changes(after: base + 3, limit: 100).isEmpty)
        }
    }

    @Test(arguments: StorageFixture.all)
    func concurrentWritersGetDistinctRevisions(_ fixture: StorageFixture) async throws {
        try await fixture.with { storage in
            let base = try await storage.currentRevision()
            let revisions = try await withThrowingTaskGroup(of: Int64.self) { group in
                for i in 0..<200 {
                    group.addTask { try await storage.create(key: "/c/\(i)", value: bytes("\(i)")).modRevision }
                }
                return try await group.reduce(into: [Int64]()) { $0.append($1) }
            }
            #expect(Set(revisions).count == 200)
            #expect(revisions.max() == base + 200)
            #expect(try await storage.list(prefix: "/c/").items.count == 200)
            // Racing updates from one revision: exactly one wins, every other one is a conflict.
            let winner = try #require(try await storage.get(key: "/c/0"))
            let outcomes = await withTaskGroup(of: Result<StoredObject, StorageError>.self) { group in
                for i in 0..<20 {
                    group.addTask {
                        do {
                            return .success(
                                try await storage.update(key: "/c/0", value: bytes("u\(i)"), expectedRevision: winner.modRevision))
                        } catch {
                            return .failure(error as? StorageError ?? StorageError(.unavailable))
                        }
                    }
                }
                return await group.reduce(into: [Result<StoredObject, StorageError>]()) { $0.append($1) }
            }
            let won = outcomes.compactMap { try? $0.get() }
            #expect(won.count == 1)
            for case .failure(let error) in outcomes {
                guard case .conflict(let current) = error.code else {
                    Issue.record("expected a conflict, got \(error)")
                    continue
                }
                #expect(current.modRevision >= won.first?.modRevision ?? 0)
            }
        }
    }

    @Test(arguments: StorageFixture.all)
    func compactionAnswersCompactedForOlderRevisions(_ fixture: StorageFixture) async throws {
        try await fixture.with { storage in
            let base = try await storage.currentRevision()
            var object = try await storage.create(key: "/h/a", value: bytes("0"))
            _ = try await storage.create(key: "/h/gone", value: bytes("x"))
            _ = try await storage.delete(key: "/h/gone", expectedRevision: nil)
            for i in 1...10 {
                object = try await storage.update(key: "/h/a", value: bytes("\(i)"), expectedRevision: object.modRevision)
            }
            let keep = base + 8
            try await storage.compact(before: keep)
            #expect(try await storage.compactedRevision() == keep)
            // The state at the oldest retained revision and later is whole.
            let atKeep = try await storage.list(prefix: "/h/", revision: keep, startAfter: nil, limit: nil)
            #expect(atKeep.items.map(\.key) == ["/h/a"])
            #expect(atKeep.items.first?.value == bytes("5"))
            do {
                _ = try await storage.list(prefix: "/h/", revision: keep - 1, startAfter: nil, limit: nil)
                Issue.record("listed a compacted revision")
            } catch let error as StorageError {
                #expect(error.code == .compacted(oldest: keep))
            }
            // Changes after keep - 1 are all there; earlier ones are gone.
            #expect(try await storage.changes(after: keep - 1, limit: 100).map(\.revision) == Array((keep)...(base + 13)))
            await #expect(throws: StorageError.self) { _ = try await storage.changes(after: keep - 2, limit: 100) }
            do {
                _ = try await storage.watch(after: keep - 2)
                Issue.record("watched from a compacted revision")
            } catch let error as StorageError {
                #expect(error.code == .compacted(oldest: keep))
            }
            let stream = try await storage.watch(after: keep - 1)
            var seen: [Int64] = []
            for try await change in stream where change.kind != .progress {
                seen.append(change.revision)
                if seen.count == base + 13 - keep + 1 { break }
            }
            #expect(seen == Array(keep...(base + 13)))
        }
    }
}

@Suite("Storage watch conformance", .serialized, .timeLimit(.minutes(2)))
struct StorageWatchTests {
    @Test(arguments: StorageFixture.all)
    func watchReplaysThenFollowsLiveChanges(_ fixture: StorageFixture) async throws {
        try await fixture.with { storage in
            let base = try await storage.currentRevision()
            let a = try await storage.create(key: "/w/a", value: bytes("a1"))
            _ = try await storage.update(key: "/w/a", value: bytes("a2"), expectedRevision: a.modRevision)
            let stream = try await storage.watch(after: base + 1)
            _ = try await storage.delete(key: "/w/a", expectedRevision: nil)
            _ = try await storage.create(key: "/w/b", value: bytes("b1"))
            var seen: [StorageChange] = []
            for try await change in stream where change.kind != .progress {
                seen.append(change)
                if seen.count == 3 { break }
            }
            #expect(seen.map(\.revision) == [base + 2, base + 3, base + 4])
            #expect(seen.map(\.kind) == [.put, .delete, .put])
            #expect(seen.map(\.object.key) == ["/w/a", "/w/a", "/w/b"])
            #expect(seen[0].previousValue == bytes("a1"))
            #expect(seen[1].object.value == bytes("a2"), "a delete carries the last state")
            #expect(try await storage.currentRevision() == base + 4)
        }
    }

    @Test(arguments: StorageFixture.all)
    func watchFromBeyondMemoryReadsTheLog(_ fixture: StorageFixture) async throws {
        try await fixture.with(watchHistory: 5, watchBuffer: 100) { storage in
            let base = try await storage.currentRevision()
            for i in 0..<20 { _ = try await storage.create(key: "/w/\(i)", value: bytes("\(i)")) }
            let stream = try await storage.watch(after: base + 2)
            var revisions: [Int64] = []
            for try await change in stream where change.kind != .progress {
                revisions.append(change.revision)
                if revisions.count == 18 { break }
            }
            #expect(revisions == Array((base + 3)...(base + 20)))
        }
    }

    @Test(arguments: StorageFixture.all)
    func progressReportsTheRevisionReached(_ fixture: StorageFixture) async throws {
        try await fixture.with { storage in
            let base = try await storage.currentRevision()
            _ = try await storage.create(key: "/p/a", value: bytes("a"))
            let stream = try await storage.watch(after: base)
            var reached: Int64 = 0
            var iterator = stream.makeAsyncIterator()
            // A store whose watch sees every commit reaches the revision by the change; etcd also by a progress report.
            await storage.requestWatchProgress()
            while reached < base + 1, let change = try await iterator.next() { reached = max(reached, change.revision) }
            #expect(reached == base + 1)
        }
    }

    @Test(arguments: StorageFixture.all)
    func aStuckWatcherIsCutOffWithoutSlowingWriters(_ fixture: StorageFixture) async throws {
        try await fixture.with(watchHistory: 1000, watchBuffer: 10) { storage in
            let base = try await storage.currentRevision()
            let stuck = try await storage.watch(after: base)
            for i in 0..<50 { _ = try await storage.create(key: "/s/\(i)", value: bytes("\(i)")) }
            #expect(try await storage.currentRevision() == base + 50)
            var received = 0
            await #expect(throws: StorageError.self) {
                // A stuck reader: give the store time to overflow its buffer before reading.
                try await Task.sleep(for: .milliseconds(300))
                for try await _ in stuck { received += 1 }
            }
            #expect(received == 10, "the buffered changes are delivered, then the stream ends with an error")
            let healthy = try await storage.watch(after: base + 45)
            var tail: [Int64] = []
            for try await change in healthy where change.kind != .progress {
                tail.append(change.revision)
                if tail.count == 5 { break }
            }
            #expect(tail == Array((base + 46)...(base + 50)))
        }
    }
}

@Suite("SQLite durability")
struct SQLiteDurabilityTests {
    @Test func dataAndRevisionSurviveReopen() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("apoxy-reopen-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("apoxy.sqlite").path
        do {
            let storage = try SQLiteStorage(path: path)
            _ = try await storage.create(key: "/k/a", value: bytes("a"))
            let b = try await storage.create(key: "/k/b", value: bytes("b"))
            _ = try await storage.update(key: "/k/b", value: bytes("b2"), expectedRevision: b.modRevision)
            await storage.close()
        }
        let reopened = try SQLiteStorage(path: path)
        #expect(try await reopened.currentRevision() == 3)
        #expect(try await reopened.get(key: "/k/b")?.value == bytes("b2"))
        let next = try await reopened.create(key: "/k/c", value: bytes("c"))
        #expect(next.modRevision == 4, "revisions continue where the previous process stopped")
        await reopened.close()
    }

    /// A watch broken by a restart resumes from the last revision it saw, on the reopened file, with every later
    /// change exactly once.
    @Test func aWatchResumesAcrossAReopen() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("apoxy-resume-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("apoxy.sqlite").path
        var lastSeen: Int64 = 0
        do {
            let storage = try SQLiteStorage(path: path)
            let stream = try await storage.watch(after: 0)
            for i in 0..<5 { _ = try await storage.create(key: "/r/\(i)", value: bytes("\(i)")) }
            for try await change in stream {
                lastSeen = change.revision
                if lastSeen == 3 { break }
            }
            for i in 5..<8 { _ = try await storage.create(key: "/r/\(i)", value: bytes("\(i)")) }
            await storage.close()
        }
        let reopened = try SQLiteStorage(path: path)
        let resumed = try await reopened.watch(after: lastSeen)
        _ = try await reopened.create(key: "/r/8", value: bytes("8"))
        var revisions: [Int64] = []
        for try await change in resumed {
            revisions.append(change.revision)
            if revisions.count == 6 { break }
        }
        #expect(revisions == [4, 5, 6, 7, 8, 9])
        await reopened.close()
    }

    /// 20,000 updates of one object under a revision retention: the file stays bounded.
    @Test(.timeLimit(.minutes(3))) func historyRetentionBoundsTheFile() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("apoxy-bounded-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("apoxy.sqlite").path
        let storage = try SQLiteStorage(path: path)
        let value = bytes(String(repeating: "x", count: 1000))
        var object = try await storage.create(key: "/b/one", value: value)
        var peak: UInt64 = 0
        let compactor = HistoryCompactor(
            storage: storage, retention: .revisions(1000), checkInterval: .milliseconds(20), logger: Logger(label: "compactor"))
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await compactor.run() }
            for i in 1...20_000 {
                object = try await storage.update(key: "/b/one", value: value, expectedRevision: object.modRevision)
                if i % 2000 == 0 { peak = max(peak, fileSize(path) + fileSize(path + "-wal")) }
            }
            let final = object.modRevision
            while try await storage.compactedRevision() < final - 999 { try await Task.sleep(for: .milliseconds(20)) }
            group.cancelAll()
        }
        #expect(try await storage.compactedRevision() == object.modRevision - 999)
        let changes = try await storage.changes(after: object.modRevision - 1000, limit: 2000)
        #expect(changes.count == 1000, "the retained revisions stay readable")
        await #expect(throws: StorageError.self) { _ = try await storage.changes(after: object.modRevision - 1500, limit: 10) }
        await storage.close()
        // Unbounded, 20,000 revisions of a 1 kB value would be over 40 MB (value and previous value per change).
        let bytesAfter = fileSize(path) + fileSize(path + "-wal")
        #expect(peak < 24_000_000, "database + WAL peaked at \(peak) bytes")
        #expect(bytesAfter < 24_000_000, "database + WAL is \(bytesAfter) bytes")
        print("historyRetentionBoundsTheFile: 20,000 updates, retention 1,000 revisions: peak \(peak) B, final \(bytesAfter) B")
    }

    @Test func refusesANewerSchema() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("apoxy-schema-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("apoxy.sqlite").path
        let storage = try SQLiteStorage(path: path)
        await storage.close()
        let result = try await runProcess("/usr/bin/env", ["sqlite3", path, "PRAGMA user_version = 99;"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(throws: StorageError.self) { _ = try SQLiteStorage(path: path) }
    }
}

func fileSize(_ path: String) -> UInt64 {
    ((try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? NSNumber)?.uint64Value ?? 0
}
