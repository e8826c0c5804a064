import ApoxyStorage
import Foundation
import Testing

/// A storage backend under test, with whatever it needs cleaned up.
struct StorageFixture: CustomStringConvertible, Sendable {
    let name: String
    let makeWithLimits: @Sendable (_ watchHistory: Int, _ watchBuffer: Int) throws -> (any RevisionedStorage, @Sendable () async -> Void)

    var description: String { name }

    func make() throws -> (any RevisionedStorage, @Sendable () async -> Void) { try makeWithLimits(10_000, 10_000) }

    static let memory = StorageFixture(name: "memory") { history, buffer in
        (MemoryStorage(watchHistory: history, watchBuffer: buffer), {})
    }
    static let sqlite = StorageFixture(name: "sqlite") { history, buffer in
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("apoxy-storage-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let storage = try SQLiteStorage(
            path: directory.appendingPathComponent("apoxy.sqlite").path, watchHistory: history, watchBuffer: buffer)
        return (storage, {
            await storage.close()
            try? FileManager.default.removeItem(at: directory)
        })
    }

    static let all = [memory, sqlite]
}

func bytes(_ s: String) -> [UInt8] { Array(s.utf8) }

/// The contract every `RevisionedStorage` backend must meet (cf. k8s.io/apiserver/pkg/storage/testing).
@Suite("Storage conformance")
struct StorageConformanceTests {
    @Test(arguments: StorageFixture.all)
    func createThenGet(_ fixture: StorageFixture) async throws {
        let (storage, cleanup) = try fixture.make()
        defer { Task { await cleanup() } }
        #expect(try await storage.currentRevision() == 0)
        let created = try await storage.create(key: "/a/one", value: bytes("1"))
        #expect(created.createRevision == 1)
        #expect(created.modRevision == 1)
        let fetched = try await storage.get(key: "/a/one")
        #expect(fetched == created)
        #expect(try await storage.get(key: "/a/missing") == nil)
        #expect(try await storage.currentRevision() == 1)
    }

    @Test(arguments: StorageFixture.all)
    func createExistingKeyFails(_ fixture: StorageFixture) async throws {
        let (storage, cleanup) = try fixture.make()
        defer { Task { await cleanup() } }
        _ = try await storage.create(key: "/a/one", value: bytes("1"))
        await #expect(throws: StorageError(.keyExists, key: "/a/one")) {
            _ = try await storage.create(key: "/a/one", value: bytes("2"))
        }
        #expect(try await storage.get(key: "/a/one")?.value == bytes("1"))
        #expect(try await storage.currentRevision() == 1, "a failed write must not consume a revision")
    }

    @Test(arguments: StorageFixture.all)
    func updateIsGuardedByRevision(_ fixture: StorageFixture) async throws {
        let (storage, cleanup) = try fixture.make()
        defer { Task { await cleanup() } }
        let created = try await storage.create(key: "/a/one", value: bytes("1"))
        _ = try await storage.create(key: "/a/two", value: bytes("x"))
        let updated = try await storage.update(key: "/a/one", value: bytes("2"), expectedRevision: created.modRevision)
        #expect(updated.modRevision == 3)
        #expect(updated.createRevision == 1)
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

    @Test(arguments: StorageFixture.all)
    func deleteIsGuardedByRevision(_ fixture: StorageFixture) async throws {
        let (storage, cleanup) = try fixture.make()
        defer { Task { await cleanup() } }
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
        #expect(deleted.revision == 3)
        #expect(deleted.object.value == bytes("2"))
        #expect(try await storage.get(key: "/a/one") == nil)
        await #expect(throws: StorageError(.keyNotFound, key: "/a/one")) {
            _ = try await storage.delete(key: "/a/one", expectedRevision: nil)
        }
        // A key can be created again after deletion, with a new createRevision.
        let again = try await storage.create(key: "/a/one", value: bytes("3"))
        #expect(again.createRevision == 4)
    }

    @Test(arguments: StorageFixture.all)
    func listIsOrderedPagedAndPrefixed(_ fixture: StorageFixture) async throws {
        let (storage, cleanup) = try fixture.make()
        defer { Task { await cleanup() } }
        for name in ["c", "a", "e", "b", "d"] {
            _ = try await storage.create(key: "/items/\(name)", value: bytes(name))
        }
        _ = try await storage.create(key: "/itemsx/z", value: bytes("z"))
        _ = try await storage.create(key: "/other/a", value: bytes("o"))
        let all = try await storage.list(prefix: "/items/")
        #expect(all.items.map(\.key) == ["/items/a", "/items/b", "/items/c", "/items/d", "/items/e"])
        #expect(all.revision == 7)
        #expect(all.remaining == 0)
        let first = try await storage.list(prefix: "/items/", revision: nil, startAfter: nil, limit: 2)
        #expect(first.items.map(\.key) == ["/items/a", "/items/b"])
        #expect(first.remaining == 3)
        let second = try await storage.list(prefix: "/items/", revision: first.revision, startAfter: "/items/b", limit: 2)
        #expect(second.items.map(\.key) == ["/items/c", "/items/d"])
        #expect(second.remaining == 1)
        let last = try await storage.list(prefix: "/items/", revision: first.revision, startAfter: "/items/d", limit: 2)
        #expect(last.items.map(\.key) == ["/items/e"])
        #expect(last.remaining == 0)
    }

    @Test(arguments: StorageFixture.all)
    func listAtAnOlderRevisionSeesThePast(_ fixture: StorageFixture) async throws {
        let (storage, cleanup) = try fixture.make()
        defer { Task { await cleanup() } }
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
            _ = try await storage.list(prefix: "/i/", revision: 99, startAfter: nil, limit: nil)
            Issue.record("future revision listed")
        } catch let error as StorageError {
            #expect(error.code == .futureRevision(current: 5))
        }
    }

    @Test(arguments: StorageFixture.all)
    func changeLogIsOrderedAndComplete(_ fixture: StorageFixture) async throws {
        let (storage, cleanup) = try fixture.make()
        defer { Task { await cleanup() } }
        let a = try await storage.create(key: "/i/a", value: bytes("a1"))
        _ = try await storage.update(key: "/i/a", value: bytes("a2"), expectedRevision: a.modRevision)
        _ = try await storage.delete(key: "/i/a", expectedRevision: nil)
        let changes = try await storage.changes(after: 0, limit: 100)
        #expect(changes.map(\.revision) == [1, 2, 3])
        #expect(changes.map(\.kind) == [.put, .put, .delete])
        #expect(changes[1].previousValue == bytes("a1"))
        #expect(changes[2].object.value == bytes("a2"))
        #expect(try await storage.changes(after: 2, limit: 100).map(\.revision) == [3])
        #expect(try await storage.changes(after: 0, limit: 2).count == 2)
    }

    @Test(arguments: StorageFixture.all)
    func concurrentWritersGetDistinctRevisions(_ fixture: StorageFixture) async throws {
        let (storage, cleanup) = try fixture.make()
        defer { Task { await cleanup() } }
        let revisions = try await withThrowingTaskGroup(of: Int64.self) { group in
            for i in 0..<200 {
                group.addTask { try await storage.create(key: "/c/\(i)", value: bytes("\(i)")).modRevision }
            }
            return try await group.reduce(into: [Int64]()) { $0.append($1) }
        }
        #expect(Set(revisions).count == 200)
        #expect(revisions.max() == 200)
        #expect(try await storage.list(prefix: "/c/").items.count == 200)
        // Racing updates from one revision: exactly one wins.
        let base = try #require(try await storage.get(key: "/c/0"))
        let outcomes = await withTaskGroup(of: Bool.self) { group in
            for i in 0..<20 {
                group.addTask {
                    (try? await storage.update(key: "/c/0", value: bytes("u\(i)"), expectedRevision: base.modRevision)) != nil
                }
            }
            return await group.reduce(into: [Bool]()) { $0.append($1) }
        }
        #expect(outcomes.filter { $0 }.count == 1)
    }
}

@Suite("Storage watch conformance")
struct StorageWatchTests {
    @Test(arguments: StorageFixture.all)
    func watchReplaysThenFollowsLiveChanges(_ fixture: StorageFixture) async throws {
        let (storage, cleanup) = try fixture.make()
        defer { Task { await cleanup() } }
        let a = try await storage.create(key: "/w/a", value: bytes("a1"))
        _ = try await storage.update(key: "/w/a", value: bytes("a2"), expectedRevision: a.modRevision)
        let stream = try await storage.watch(after: 1)
        _ = try await storage.delete(key: "/w/a", expectedRevision: nil)
        _ = try await storage.create(key: "/w/b", value: bytes("b1"))
        var seen: [(Int64, StorageChange.Kind)] = []
        for try await change in stream {
            seen.append((change.revision, change.kind))
            if seen.count == 3 { break }
        }
        #expect(seen.map(\.0) == [2, 3, 4])
        #expect(seen.map(\.1) == [.put, .delete, .put])
        #expect(try await storage.currentRevision() == 4)
    }

    @Test(arguments: StorageFixture.all)
    func watchFromBeyondMemoryReadsTheLog(_ fixture: StorageFixture) async throws {
        guard fixture.name == "sqlite" else { return }  // memory keeps no log beyond its window by design
        let (storage, cleanup) = try fixture.makeWithLimits(5, 100)
        defer { Task { await cleanup() } }
        for i in 0..<20 { _ = try await storage.create(key: "/w/\(i)", value: bytes("\(i)")) }
        let stream = try await storage.watch(after: 2)
        var revisions: [Int64] = []
        for try await change in stream {
            revisions.append(change.revision)
            if revisions.count == 18 { break }
        }
        #expect(revisions == Array(3...20))
    }

    @Test(arguments: StorageFixture.all)
    func aStuckWatcherIsCutOffWithoutSlowingWriters(_ fixture: StorageFixture) async throws {
        let (storage, cleanup) = try fixture.makeWithLimits(1000, 10)
        defer { Task { await cleanup() } }
        let stuck = try await storage.watch(after: 0)
        for i in 0..<50 { _ = try await storage.create(key: "/s/\(i)", value: bytes("\(i)")) }
        #expect(try await storage.currentRevision() == 50)
        var received = 0
        await #expect(throws: StorageError.self) {
            for try await _ in stuck { received += 1 }
        }
        #expect(received == 10, "the buffered changes are delivered, then the stream ends with an error")
        let healthy = try await storage.watch(after: 45)
        var tail: [Int64] = []
        for try await change in healthy {
            tail.append(change.revision)
            if tail.count == 5 { break }
        }
        #expect(tail == [46, 47, 48, 49, 50])
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

    @Test func refusesANewerSchema() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("apoxy-schema-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("apoxy.sqlite").path
        let storage = try SQLiteStorage(path: path)
        await storage.close()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["sqlite3", path, "PRAGMA user_version = 99;"]
        try process.run()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        #expect(throws: StorageError.self) { _ = try SQLiteStorage(path: path) }
    }
}
