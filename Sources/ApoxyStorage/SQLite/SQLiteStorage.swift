import NIOPosix
import Synchronization

/// Durable `RevisionedStorage` in one SQLite file: WAL, `synchronous=FULL` (an acknowledged write survives
/// `kill -9` and power loss), a versioned schema, and group commit: writes that arrive while a commit is in
/// flight share the next transaction, so concurrent clients are not limited to one fsync each.
public final class SQLiteStorage: RevisionedStorage {
    /// The schema version this code writes (`PRAGMA user_version`).
    public static let schemaVersion: Int64 = 1

    private let writerPool: NIOThreadPool
    private let readerPool: NIOThreadPool
    private let writer: Writer
    private let readers: SQLiteConnectionPool
    private let broadcaster: ChangeBroadcaster

    /// Opens or creates the database at `path`, migrating the schema if needed. `watchHistory` changes stay in
    /// memory for watchers; a watcher may lag `watchBuffer` changes before it is cut off.
    public init(
        path: String, readerThreads: Int = 2, watchHistory: Int = 10_000, watchBuffer: Int = 10_000,
        metrics: StorageMetrics? = nil
    ) throws {
        let connection = try SQLiteConnection(path: path)
        try Self.migrate(connection)
        var revision: Int64 = 0
        try connection.query("SELECT value FROM meta WHERE key = 'revision'") { revision = $0.integer(0) }
        broadcaster = ChangeBroadcaster(revision: revision, historyLimit: watchHistory, bufferLimit: watchBuffer)
        writer = Writer(connection: connection, revision: revision, broadcaster: broadcaster, metrics: metrics)
        writerPool = NIOThreadPool(numberOfThreads: 1)
        readerPool = NIOThreadPool(numberOfThreads: readerThreads)
        readers = SQLiteConnectionPool(path: path)
        writerPool.start()
        readerPool.start()
    }

    /// Stops the worker threads; pending operations finish first, then watches end.
    public func close() async {
        defer { broadcaster.finishAll(throwing: StorageError(.unavailable, message: "storage is closed")) }
        try? await writerPool.shutdownGracefully()
        try? await readerPool.shutdownGracefully()
    }

    static func migrate(_ db: SQLiteConnection) throws {
        try db.execute("PRAGMA journal_mode = WAL")
        try db.execute("PRAGMA synchronous = FULL")
        // Truncate the WAL back to this size after checkpoints, so a burst of writes does not leave a large file.
        try db.execute("PRAGMA journal_size_limit = 16777216")
        var version: Int64 = 0
        try db.query("PRAGMA user_version") { version = $0.integer(0) }
        if version > schemaVersion {
            throw StorageError(
                .unavailable, message: "database schema version \(version) is newer than this server's \(schemaVersion)")
        }
        if version < 1 {
            try db.execute(
                """
                BEGIN IMMEDIATE;
                CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;
                INSERT OR IGNORE INTO meta (key, value) VALUES ('revision', 0), ('compacted', 0);
                CREATE TABLE IF NOT EXISTS objects (
                    key TEXT PRIMARY KEY,
                    value BLOB NOT NULL,
                    create_revision INTEGER NOT NULL,
                    mod_revision INTEGER NOT NULL
                ) WITHOUT ROWID;
                CREATE TABLE IF NOT EXISTS changes (
                    revision INTEGER PRIMARY KEY,
                    key TEXT NOT NULL,
                    kind INTEGER NOT NULL,
                    value BLOB NOT NULL,
                    create_revision INTEGER NOT NULL,
                    prev_value BLOB
                );
                CREATE INDEX IF NOT EXISTS changes_by_key ON changes (key, revision);
                PRAGMA user_version = 1;
                COMMIT;
                """)
        }
    }

    // MARK: Writes

    public func create(key: String, value: [UInt8]) async throws -> StoredObject {
        try await submit(.create(key: key, value: value)).object
    }

    public func update(key: String, value: [UInt8], expectedRevision: Int64) async throws -> StoredObject {
        try await submit(.update(key: key, value: value, expectedRevision: expectedRevision)).object
    }

    public func delete(key: String, expectedRevision: Int64?) async throws -> StorageChange {
        try await submit(.delete(key: key, expectedRevision: expectedRevision))
    }

    public func watch(after revision: Int64) async throws -> ChangeStream {
        try await watch(after: revision, using: broadcaster)
    }

    private func submit(_ operation: Writer.Operation) async throws -> StorageChange {
        try await withCheckedThrowingContinuation { continuation in
            if writer.enqueue(operation, continuation) {
                writerPool.submit { [writer] state in
                    guard case .active = state else {
                        writer.failAll(StorageError(.unavailable, message: "storage is shut down"))
                        return
                    }
                    writer.drain()
                }
            }
        }
    }

    // MARK: Reads

    private func read<T: Sendable>(_ body: @escaping @Sendable (SQLiteConnection) throws -> T) async throws -> T {
        try await readerPool.runIfActive { [readers] in
            do {
                return try readers.withConnection(body)
            } catch let error as SQLiteError {
                throw StorageError(.unavailable, message: error.description)
            }
        }
    }

    public func get(key: String) async throws -> StoredObject? {
        try await read { db in
            var object: StoredObject?
            try db.query("SELECT value, create_revision, mod_revision FROM objects WHERE key = ?", [.text(key)]) {
                object = StoredObject(key: key, value: $0.blob(0), createRevision: $0.integer(1), modRevision: $0.integer(2))
            }
            return object
        }
    }

    /// The last committed revision, from memory: this process is the only writer of the file.
    public func currentRevision() async throws -> Int64 {
        broadcaster.revision
    }

    public func list(prefix: String, revision: Int64?, startAfter: String?, limit: Int?) async throws -> StorageListResult {
        try await read { db in
            try db.execute("BEGIN")
            defer { try? db.execute("COMMIT") }
            var current: Int64 = 0
            var compacted: Int64 = 0
            try db.query("SELECT key, value FROM meta") {
                if $0.text(0) == "revision" { current = $0.integer(1) } else if $0.text(0) == "compacted" { compacted = $0.integer(1) }
            }
            let atRevision = revision ?? current
            if atRevision > current { throw StorageError(.futureRevision(current: current)) }
            if atRevision < compacted { throw StorageError(.compacted(oldest: compacted)) }
            // Keys under the prefix are those in [prefix, prefix + U+10FFFF).
            let upper = prefix + "\u{10FFFF}"
            let lower = max(prefix, startAfter ?? "")
            var items: [StoredObject] = []
            let fetch = limit.map { Int64($0) + 0 } ?? -1
            if atRevision == current {
                try db.query(
                    "SELECT key, value, create_revision, mod_revision FROM objects WHERE key > ? AND key < ? ORDER BY key LIMIT ?",
                    [.text(lower), .text(upper), .integer(fetch)]
                ) {
                    items.append(
                        StoredObject(key: $0.text(0), value: $0.blob(1), createRevision: $0.integer(2), modRevision: $0.integer(3)))
                }
            } else {
                try db.query(
                    """
                    SELECT c.key, c.value, c.create_revision, c.revision FROM changes c
                    WHERE c.revision = (SELECT max(revision) FROM changes WHERE key = c.key AND revision <= ?)
                      AND c.kind = 0 AND c.key > ? AND c.key < ? ORDER BY c.key LIMIT ?
                    """,
                    [.integer(atRevision), .text(lower), .text(upper), .integer(fetch)]
                ) {
                    items.append(
                        StoredObject(key: $0.text(0), value: $0.blob(1), createRevision: $0.integer(2), modRevision: $0.integer(3)))
                }
            }
            var remaining = 0
            if let limit, items.count == limit, let last = items.last {
                if atRevision == current {
                    try db.query("SELECT count(*) FROM objects WHERE key > ? AND key < ?", [.text(last.key), .text(upper)]) {
                        remaining = Int($0.integer(0))
                    }
                } else {
                    try db.query(
                        """
                        SELECT count(*) FROM changes c
                        WHERE c.revision = (SELECT max(revision) FROM changes WHERE key = c.key AND revision <= ?)
                          AND c.kind = 0 AND c.key > ? AND c.key < ?
                        """, [.integer(atRevision), .text(last.key), .text(upper)]
                    ) { remaining = Int($0.integer(0)) }
                }
            }
            return StorageListResult(items: items, revision: atRevision, remaining: remaining)
        }
    }

    public func changes(after revision: Int64, limit: Int) async throws -> [StorageChange] {
        try await read { db in
            try db.execute("BEGIN")
            defer { try? db.execute("COMMIT") }
            var compacted: Int64 = 0
            try db.query("SELECT value FROM meta WHERE key = 'compacted'") { compacted = $0.integer(0) }
            if revision < compacted - 1 { throw StorageError(.compacted(oldest: compacted)) }
            var result: [StorageChange] = []
            try db.query(
                "SELECT revision, key, kind, value, create_revision, prev_value FROM changes WHERE revision > ? ORDER BY revision LIMIT ?",
                [.integer(revision), .integer(Int64(limit))]
            ) {
                let object = StoredObject(key: $0.text(1), value: $0.blob(3), createRevision: $0.integer(4), modRevision: $0.integer(0))
                result.append(
                    StorageChange(
                        kind: StorageChange.Kind(rawValue: Int($0.integer(2))) ?? .put, object: object,
                        previousValue: $0.isNull(5) ? nil : $0.blob(5)))
            }
            return result
        }
    }
}

extension SQLiteStorage {
    public func compact(before revision: Int64) async throws {
        try await writerPool.runIfActive { [writer] in try writer.compact(before: revision) }
    }

    public func compactedRevision() async throws -> Int64 {
        try await read { db in
            var compacted: Int64 = 0
            try db.query("SELECT value FROM meta WHERE key = 'compacted'") { compacted = $0.integer(0) }
            return compacted
        }
    }
}

extension SQLiteStorage {
    /// The single writer: a queue of operations drained on one thread, each drain one transaction.
    final class Writer: Sendable {
        enum Operation: Sendable {
            case create(key: String, value: [UInt8])
            case update(key: String, value: [UInt8], expectedRevision: Int64)
            case delete(key: String, expectedRevision: Int64?)
        }

        typealias Waiter = CheckedContinuation<StorageChange, any Error>

        private struct Queue {
            var pending: [(Operation, Waiter)] = []
            var draining = false
        }

        private let queue = Mutex(Queue())
        /// Touched only on the writer thread (inside `drain`).
        private let connection: SQLiteConnection
        private nonisolated(unsafe) var revision: Int64
        private let broadcaster: ChangeBroadcaster
        private let metrics: StorageMetrics?

        init(connection: SQLiteConnection, revision: Int64, broadcaster: ChangeBroadcaster, metrics: StorageMetrics?) {
            self.connection = connection
            self.revision = revision
            self.broadcaster = broadcaster
            self.metrics = metrics
        }

        /// Queues an operation; returns true when the caller must schedule a drain.
        func enqueue(_ operation: Operation, _ waiter: Waiter) -> Bool {
            queue.withLock { queue in
                queue.pending.append((operation, waiter))
                if queue.draining { return false }
                queue.draining = true
                return true
            }
        }

        func failAll(_ error: StorageError) {
            let batch = queue.withLock { queue in
                defer {
                    queue.pending = []
                    queue.draining = false
                }
                return queue.pending
            }
            for (_, waiter) in batch { waiter.resume(throwing: error) }
        }

        /// Runs queued operations, one transaction per batch, until the queue is empty.
        func drain() {
            while true {
                let batch = queue.withLock { queue in
                    let batch = queue.pending
                    queue.pending = []
                    if batch.isEmpty { queue.draining = false }
                    return batch
                }
                if batch.isEmpty { return }
                let startRevision = revision
                var results: [Result<StorageChange, any Error>] = []
                results.reserveCapacity(batch.count)
                let started = ContinuousClock.now
                do {
                    try connection.execute("BEGIN IMMEDIATE")
                    for (operation, _) in batch {
                        do {
                            results.append(.success(try apply(operation)))
                        } catch let error as StorageError {
                            results.append(.failure(error))
                        }
                    }
                    if revision != startRevision {
                        try connection.query("UPDATE meta SET value = ? WHERE key = 'revision'", [.integer(revision)])
                    }
                    try connection.execute("COMMIT")
                    metrics?.recordCommit(writes: batch.count, duration: ContinuousClock.now - started)
                    // Published in revision order before any writer hears back, so a reader that saw the
                    // acknowledgement also finds the change in the broadcaster.
                    broadcaster.publish(results.compactMap { try? $0.get() })
                } catch {
                    try? connection.execute("ROLLBACK")
                    revision = startRevision
                    let failure = StorageError(.unavailable, message: "\(error)")
                    results = batch.map { _ in .failure(failure) }
                }
                for ((_, waiter), result) in zip(batch, results) { waiter.resume(with: result) }
            }
        }

        /// Deletes the change log before `revision` except each key's last change there when it is a put, which a list
        /// at `revision` or later still needs. Runs on the writer thread, between batches.
        func compact(before revision: Int64) throws {
            let target = min(revision, self.revision)
            do {
                try connection.execute("BEGIN IMMEDIATE")
                var compacted: Int64 = 0
                try connection.query("SELECT value FROM meta WHERE key = 'compacted'") { compacted = $0.integer(0) }
                guard target > compacted else {
                    try connection.execute("COMMIT")
                    return
                }
                try connection.query(
                    """
                    DELETE FROM changes WHERE revision < ?1
                      AND revision < (SELECT max(c.revision) FROM changes c WHERE c.key = changes.key AND c.revision < ?1)
                    """, [.integer(target)])
                try connection.query("DELETE FROM changes WHERE revision < ? AND kind = 1", [.integer(target)])
                try connection.query("UPDATE meta SET value = ? WHERE key = 'compacted'", [.integer(target)])
                try connection.execute("COMMIT")
            } catch {
                try? connection.execute("ROLLBACK")
                throw StorageError(.unavailable, message: "compaction failed: \(error)")
            }
        }

        private func current(_ key: String) throws -> StoredObject? {
            var object: StoredObject?
            try connection.query("SELECT value, create_revision, mod_revision FROM objects WHERE key = ?", [.text(key)]) {
                object = StoredObject(key: key, value: $0.blob(0), createRevision: $0.integer(1), modRevision: $0.integer(2))
            }
            return object
        }

        private func apply(_ operation: Operation) throws -> StorageChange {
            switch operation {
            case .create(let key, let value):
                let next = revision + 1
                try connection.query(
                    "INSERT INTO objects (key, value, create_revision, mod_revision) VALUES (?, ?, ?, ?) ON CONFLICT (key) DO NOTHING",
                    [.text(key), .blob(value), .integer(next), .integer(next)])
                guard connection.changes == 1 else { throw StorageError(.keyExists, key: key) }
                try connection.query(
                    "INSERT INTO changes (revision, key, kind, value, create_revision) VALUES (?, ?, 0, ?, ?)",
                    [.integer(next), .text(key), .blob(value), .integer(next)])
                revision = next
                return StorageChange(kind: .put, object: StoredObject(key: key, value: value, createRevision: next, modRevision: next))
            case .update(let key, let value, let expectedRevision):
                guard let existing = try current(key) else { throw StorageError(.keyNotFound, key: key) }
                guard existing.modRevision == expectedRevision else {
                    throw StorageError(.conflict(current: existing), key: key)
                }
                let next = revision + 1
                try connection.query(
                    "UPDATE objects SET value = ?, mod_revision = ? WHERE key = ?", [.blob(value), .integer(next), .text(key)])
                try connection.query(
                    "INSERT INTO changes (revision, key, kind, value, create_revision, prev_value) VALUES (?, ?, 0, ?, ?, ?)",
                    [.integer(next), .text(key), .blob(value), .integer(existing.createRevision), .blob(existing.value)])
                revision = next
                return StorageChange(
                    kind: .put, object: StoredObject(key: key, value: value, createRevision: existing.createRevision, modRevision: next),
                    previousValue: existing.value)
            case .delete(let key, let expectedRevision):
                guard let existing = try current(key) else { throw StorageError(.keyNotFound, key: key) }
                if let expectedRevision, existing.modRevision != expectedRevision {
                    throw StorageError(.conflict(current: existing), key: key)
                }
                let next = revision + 1
                try connection.query("DELETE FROM objects WHERE key = ?", [.text(key)])
                try connection.query(
                    "INSERT INTO changes (revision, key, kind, value, create_revision) VALUES (?, ?, 1, ?, ?)",
                    [.integer(next), .text(key), .blob(existing.value), .integer(existing.createRevision)])
                revision = next
                var last = existing
                last.modRevision = next
                return StorageChange(kind: .delete, object: last)
            }
        }
    }
}
