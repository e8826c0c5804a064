import ApoxyEtcd
import ApoxyStorage
import ApoxyTestSupport
import Foundation
import Logging

/// A storage backend under test. `with` hands a fresh, empty store to a test body and tears it down afterwards,
/// awaited, whatever the body does.
struct StorageFixture: CustomStringConvertible, Sendable {
    typealias Body = @Sendable (any RevisionedStorage) async throws -> Void
    let name: String
    let run: @Sendable (_ watchHistory: Int, _ watchBuffer: Int, _ body: Body) async throws -> Void

    var description: String { name }

    /// Runs `body` with a fresh store.
    func with(watchHistory: Int = 10_000, watchBuffer: Int = 10_000, _ body: Body) async throws {
        try await run(watchHistory, watchBuffer, body)
    }

    static let memory = StorageFixture(name: "memory") { history, buffer, body in
        try await body(MemoryStorage(watchHistory: history, watchBuffer: buffer))
    }

    static let sqlite = StorageFixture(name: "sqlite") { history, buffer, body in
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("apoxy-storage-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let storage = try SQLiteStorage(
            path: directory.appendingPathComponent("apoxy.sqlite").path, watchHistory: history, watchBuffer: buffer)
        do {
            try await body(storage)
        } catch {
            await storage.close()
            throw error
        }
        await storage.close()
    }

    /// A fresh key prefix on the suite's one real etcd: etcd's revisions are cluster-wide, so tests read revisions
    /// relative to the store's revision when they start.
    static let etcd = StorageFixture(name: "etcd") { _, buffer, body in
        try await SharedEtcd.shared.exclusively { cluster in
            try await runOnEtcd(cluster, buffer: buffer, body)
        }
    }

    private static func runOnEtcd(_ cluster: EtcdCluster, buffer: Int, _ body: Body) async throws {
        let storage = try EtcdStorage(
            configuration: EtcdConfiguration(
                endpoints: EtcdConfiguration.parseServers(cluster.servers), prefix: "/conformance-\(UUID().uuidString)",
                compactionInterval: nil, watchBuffer: buffer),
            logger: Logger(label: "etcd-test"))
        try await EtcdStorage.running(storage) { try await body($0) }
    }

    static let all = [memory, sqlite, etcd]
}

extension EtcdStorage {
    /// Runs `body` while `storage` runs, then stops it.
    static func running<T: Sendable>(_ storage: EtcdStorage, _ body: @Sendable (EtcdStorage) async throws -> T) async throws -> T {
        try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask {
                try await storage.run()
                return nil
            }
            do {
                let result = try await body(storage)
                group.cancelAll()
                return result
            } catch {
                group.cancelAll()
                throw error
            }
        }
    }
}

/// One etcd member for the whole test process, started on first use (it dies with the process), lent to one test
/// at a time: etcd's revision is cluster-wide, and the cases count revisions.
actor SharedEtcd {
    static let shared = SharedEtcd()
    private var started: EtcdCluster?
    private var busy = false
    private var waiters: [CheckedContinuation<Void, Never>] = []

    /// Runs `body` with the member while no other test has it.
    func exclusively(_ body: @Sendable (EtcdCluster) async throws -> Void) async throws {
        while busy { await withCheckedContinuation { waiters.append($0) } }
        busy = true
        defer {
            busy = false
            if !waiters.isEmpty { waiters.removeFirst().resume() }
        }
        if started == nil { started = try await EtcdCluster.start(size: 1) }
        try await body(started!)
    }
}

func bytes(_ s: String) -> [UInt8] { Array(s.utf8) }
