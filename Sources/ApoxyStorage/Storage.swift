/// One stored value with the revisions etcd would report for it.
public struct StoredObject: Sendable, Equatable {
    /// The key, e.g. `/core.apoxy.dev/backends/name`.
    public var key: String
    /// The serialised object.
    public var value: [UInt8]
    /// The revision that created the key.
    public var createRevision: Int64
    /// The revision of the last write to the key; it becomes `metadata.resourceVersion`.
    public var modRevision: Int64

    /// Creates a stored object.
    public init(key: String, value: [UInt8], createRevision: Int64, modRevision: Int64) {
        self.key = key
        self.value = value
        self.createRevision = createRevision
        self.modRevision = modRevision
    }
}

/// One entry of the ordered change log.
public struct StorageChange: Sendable, Equatable {
    /// What happened to the key.
    public enum Kind: Int, Sendable {
        case put = 0
        case delete = 1
        /// Not a change: the watch has delivered every change up to `revision` (etcd's progress notification). Its
        /// `object` has an empty key and value.
        case progress = 2
    }

    public var kind: Kind
    /// The key's state after a put, or its last state before a delete; `modRevision` is the change's revision.
    public var object: StoredObject
    /// For puts that replaced a value: the previous value.
    public var previousValue: [UInt8]?

    /// The change's revision.
    public var revision: Int64 { object.modRevision }

    /// A progress notification: every change up to `revision` has been delivered.
    public static func progress(_ revision: Int64) -> StorageChange {
        StorageChange(kind: .progress, object: StoredObject(key: "", value: [], createRevision: 0, modRevision: revision))
    }

    /// Creates a change.
    public init(kind: Kind, object: StoredObject, previousValue: [UInt8]? = nil) {
        self.kind = kind
        self.object = object
        self.previousValue = previousValue
    }
}

/// A consistent page of a list.
public struct StorageListResult: Sendable, Equatable {
    /// The objects, ordered by key.
    public var items: [StoredObject]
    /// The revision the list reflects.
    public var revision: Int64
    /// How many more keys match after this page (0 when complete).
    public var remaining: Int

    /// Creates a list result.
    public init(items: [StoredObject], revision: Int64, remaining: Int) {
        self.items = items
        self.revision = revision
        self.remaining = remaining
    }
}

/// A coded storage failure; the registry maps each code to a kube `Status` in one place.
public struct StorageError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The failure codes (k8s.io/apiserver/pkg/storage/errors.go).
    public enum Code: Sendable, Equatable {
        /// Create of a key that exists.
        case keyExists
        /// Read, update or delete of a key that does not exist.
        case keyNotFound
        /// The key's revision is not the expected one; `current` is what is stored now.
        case conflict(current: StoredObject)
        /// The requested revision is older than retained history.
        case compacted(oldest: Int64)
        /// The requested revision is newer than the store's.
        case futureRevision(current: Int64)
        /// The storage engine failed (I/O, corruption, shut down).
        case unavailable
    }

    public var code: Code
    public var key: String
    public var message: String

    /// Creates a storage error.
    public init(_ code: Code, key: String = "", message: String = "") {
        self.code = code
        self.key = key
        self.message = message
    }

    public var description: String { "storage error \(code) for key \(key): \(message)" }
}

/// Revisioned key-value storage with etcd's semantics: one global, monotonic revision; each write gets the
/// next revision; writes are guarded by the revision the caller last saw; an ordered change log feeds watch.
public protocol RevisionedStorage: Sendable {
    /// Stores `value` under `key` if the key is absent; throws `.keyExists` otherwise.
    func create(key: String, value: [UInt8]) async throws -> StoredObject
    /// The current value of `key`, or nil.
    func get(key: String) async throws -> StoredObject?
    /// The keys under `prefix` after `startAfter`, at most `limit` of them (nil: all), as of `revision`
    /// (nil: the latest). Throws `.compacted` for a revision older than retained history.
    func list(prefix: String, revision: Int64?, startAfter: String?, limit: Int?) async throws -> StorageListResult
    /// Replaces the value of `key` if its modRevision is `expectedRevision`; throws `.conflict` or `.keyNotFound`.
    func update(key: String, value: [UInt8], expectedRevision: Int64) async throws -> StoredObject
    /// Deletes `key` (only if its modRevision is `expectedRevision`, when given); returns the delete change.
    func delete(key: String, expectedRevision: Int64?) async throws -> StorageChange
    /// Changes with revision greater than `revision`, in order, at most `limit`; throws `.compacted` when
    /// some of them are no longer retained.
    func changes(after revision: Int64, limit: Int) async throws -> [StorageChange]
    /// The latest revision.
    func currentRevision() async throws -> Int64
    /// Every change after `revision`, in order, then live changes as they commit. Throws `.compacted` when the
    /// revision is older than retained history. The stream ends with an error if its reader falls too far behind.
    /// It may carry `.progress` entries (see `requestWatchProgress`).
    func watch(after revision: Int64) async throws -> ChangeStream
    /// Asks every open watch to report, with a `.progress` entry, the revision it has delivered up to, even when no
    /// change was for it: how a watch cache learns it has caught up with a revision that another key's write made.
    /// Storages whose watches see every revision of the store have nothing to do.
    func requestWatchProgress() async
    /// Discards history before `revision` (etcd's compaction): afterwards a list at a revision older than
    /// `revision`, or changes or a watch after a revision older than `revision - 1`, throw `.compacted`.
    func compact(before revision: Int64) async throws
    /// The oldest revision a list can still read (0 when nothing was ever compacted).
    func compactedRevision() async throws -> Int64
    /// Throws when the storage cannot serve requests now (for `/readyz`).
    func checkReady() async throws
    /// Whether a watch that has reached `currentRevision()` (by a change or a `.progress` entry) has delivered every
    /// change up to it, so a cache fed by the watch can serve consistent reads. True where watches see every commit
    /// in order; false for an etcd whose progress notifications can overtake events (before 3.5.13 / 3.4.31).
    var watchReachesCurrentRevisionInOrder: Bool { get }
}

extension RevisionedStorage {
    public func requestWatchProgress() async {}
    public func checkReady() async throws {}
    public var watchReachesCurrentRevisionInOrder: Bool { true }
}

extension RevisionedStorage {
    /// Lists everything under `prefix` at the latest revision.
    public func list(prefix: String) async throws -> StorageListResult {
        try await list(prefix: prefix, revision: nil, startAfter: nil, limit: nil)
    }
}
