public import ApoxyAPI
public import ApoxyStorage
public import Logging
public import ServiceLifecycle
import Synchronization

/// What happened to an object.
public enum WatchEventType: String, Sendable {
    case added = "ADDED"
    case modified = "MODIFIED"
    case deleted = "DELETED"
}

/// One change, shared by every watcher (read and serialised once, however many watchers).
public struct CachedEvent<Object: APIObject>: Sendable {
    public var type: WatchEventType
    /// The object after the change (for deletes: its last state), with `resourceVersion` = `revision`.
    public var object: CachedObject
    /// The object before the change, for modifications and deletions.
    public var previous: CachedObject?
    public var revision: Int64
}

/// What a watcher's stream carries: changes, and a periodic tick for bookmarks, timeouts and noticing a client
/// that went away while nothing matched it. One cache-wide ticker feeds every watcher, so a watch needs no timer
/// task of its own, and changes reach the response loop directly, without a forwarding task.
public enum WatchCacheItem<Object: APIObject>: Sendable {
    case event(CachedEvent<Object>)
    case tick
}

/// The events after a revision, with ticks; ends with an error when the watcher falls too far behind.
public typealias CachedEventStream<Object: APIObject> = AsyncThrowingStream<WatchCacheItem<Object>, any Error>

/// An in-memory replica of one resource, kept current from one storage watch (kube's watch cache): lists at the
/// latest revision are served from memory and every watcher is fed from it, so a change is parsed once however
/// many watchers there are. A slow watcher is cut off; it never delays writers or other watchers.
public final class WatchCache<Object: APIObject>: Service, Sendable {
    private struct State {
        var ready = false
        var revision: Int64 = 0
        /// Each object by name, serialised, so lists copy bytes instead of re-encoding.
        var objects: [String: CachedObject] = [:]
        /// `objects`' names in order, kept until a name is added or removed so lists do not sort every time.
        var sortedNames: [String]?
        /// `objects` in name order, kept until any change, so lists between changes copy one array reference.
        var sortedObjects: [CachedObject]?
        /// Their serialisations, kept with them: an unfiltered list then touches no object.
        var sortedJSON: [[UInt8]]?
        /// Recent events; a watch can start at any revision >= `floor`.
        var history: [CachedEvent<Object>] = []
        var historyStart = 0
        var floor: Int64 = 0
        var subscribers = StreamSubscribers<WatchCacheItem<Object>>()
        var waiters: [(id: Int, revision: Int64, continuation: CheckedContinuation<Void, Never>)] = []
        var nextWaiterID = 0
        /// Waiters not registered yet, and those whose wait ended (timeout, cancellation) before they registered, which
        /// must then not register.
        var unregisteredWaiters = Set<Int>()
        var abandonedWaiters = Set<Int>()
    }

    private let storage: any RevisionedStorage
    private let keyPrefix: String
    /// The resource's selectable fields, whose values each cached object carries.
    public let selectableFields: SelectableFields
    /// Turns a stored object into the served form (a resource stored as another's version); nil: as stored.
    private let convert: (@Sendable (inout JSONValue) -> Void)?
    private let state = Mutex(State())
    private let historyLimit: Int
    private let bufferLimit: Int
    private let tickInterval: Duration
    private let logger: Logger

    /// Creates a cache of the objects stored under `keyPrefix`.
    public init(
        storage: any RevisionedStorage, keyPrefix: String, selectableFields: SelectableFields = SelectableFields([]),
        historyLimit: Int = 10_000,
        bufferLimit: Int = 1_000, tickInterval: Duration = .seconds(1), logger: Logger,
        convert: (@Sendable (inout JSONValue) -> Void)? = nil
    ) {
        self.convert = convert
        self.tickInterval = tickInterval
        self.storage = storage
        self.keyPrefix = keyPrefix
        self.selectableFields = selectableFields
        self.historyLimit = historyLimit
        self.bufferLimit = bufferLimit
        self.logger = logger
    }

    // MARK: Service

    /// Lists, then follows the storage watch; relists (ending every watcher) if the watch breaks. Ticks every
    /// watcher meanwhile.
    public func run() async throws {
        await cancelWhenGracefulShutdown {
            await withTaskGroup(of: Void.self) { group in
                group.addTask {
                    while !Task.isCancelled {
                        try? await Task.sleep(for: self.tickInterval)
                        if Task.isCancelled { break }
                        self.fanOut(.tick)
                    }
                }
                await self.follow()
                group.cancelAll()
            }
        }
        let (subscribers, waiters) = state.withLock { state in
            defer {
                state.waiters = []
                state.ready = false
            }
            return (state.subscribers.removeAll(), state.waiters)
        }
        for continuation in subscribers { continuation.finish() }
        for waiter in waiters { waiter.continuation.resume() }
    }

    private func follow() async {
        // Retries back off to 2 s, so an unreachable storage is not polled (and logged) ten times a second.
        var retryDelay = Duration.milliseconds(100)
        while !Task.isCancelled {
            do {
                let list = try await self.storage.list(prefix: self.keyPrefix)
                var objects: [String: CachedObject] = [:]
                objects.reserveCapacity(list.items.count)
                for stored in list.items {
                    let name = String(stored.key.dropFirst(self.keyPrefix.count))
                    objects[name] = try self.read(stored.value, name: name, revision: stored.modRevision)
                }
                self.reset(objects: objects, revision: list.revision)
                retryDelay = .milliseconds(100)
                for try await change in try await self.storage.watch(after: list.revision) {
                    try self.apply(change)
                }
            } catch is CancellationError {
                break
            } catch {
                if Task.isCancelled { break }
                self.logger.warning(
                    "watch cache restarting", metadata: ["prefix": "\(self.keyPrefix)", "error": "\(error)", "retry_in": "\(retryDelay)"])
                try? await Task.sleep(for: retryDelay)
                retryDelay = min(retryDelay * 2, .seconds(2))
            }
        }
    }

    private func read(_ bytes: [UInt8], name: String, revision: Int64) throws -> CachedObject {
        guard
            let object = CachedObject(
                stored: bytes, path: name, revision: revision, selectableFields: selectableFields, convert: convert)
        else {
            throw StorageError(.unavailable, message: "stored object \(keyPrefix)\(name) is not a JSON object")
        }
        return object
    }

    private func reset(objects: [String: CachedObject], revision: Int64) {
        let (stale, ready) = state.withLock { state -> ([CachedEventStream<Object>.Continuation], [CheckedContinuation<Void, Never>]) in
            let stale = state.subscribers.removeAll()
            state.objects = objects
            state.sortedNames = nil
            state.sortedObjects = nil
            state.sortedJSON = nil
            state.revision = revision
            state.floor = revision
            state.history = []
            state.historyStart = 0
            state.ready = true
            return (stale, takeWaiters(&state))
        }
        // Watchers of the previous incarnation may have missed changes: end them so their clients resume.
        for continuation in stale { continuation.finish(throwing: StorageError(.unavailable, message: "watch cache restarted")) }
        for waiter in ready { waiter.resume() }
    }

    private func takeWaiters(_ state: inout State) -> [CheckedContinuation<Void, Never>] {
        let revision = state.revision
        let due = state.waiters.filter { $0.revision <= revision }.map(\.continuation)
        state.waiters.removeAll { $0.revision <= revision }
        return due
    }

    private func apply(_ change: StorageChange) throws {
        var event: CachedEvent<Object>?
        if change.kind != .progress, change.object.key.hasPrefix(keyPrefix) {
            let name = String(change.object.key.dropFirst(keyPrefix.count))
            let object = try read(change.object.value, name: name, revision: change.revision)
            let previous = state.withLock { $0.objects[name] }
            let type: WatchEventType = change.kind == .delete ? .deleted : previous == nil ? .added : .modified
            event = CachedEvent(type: type, object: object, previous: previous, revision: change.revision)
        }
        // Deliver outside the lock (see StreamSubscribers). Changes are applied from this one task, so watchers still
        // see them in order.
        let (subscribers, due) = state.withLock { state in
            // A progress report never moves the cache back (etcd may report a revision it reported before).
            state.revision = max(state.revision, change.revision)
            if let event {
                let name = event.object.path
                if event.type != .modified { state.sortedNames = nil }
                state.sortedObjects = nil
                state.sortedJSON = nil
                state.objects[name] = event.type == .deleted ? nil : event.object
                state.history.append(event)
                if state.history.count - state.historyStart > historyLimit {
                    state.floor = state.history[state.historyStart].revision
                    state.historyStart += 1
                    if state.historyStart >= historyLimit {
                        state.history.removeFirst(state.historyStart)
                        state.historyStart = 0
                    }
                }
            }
            return (event == nil ? [] : state.subscribers.all, takeWaiters(&state))
        }
        if let event { fanOut(.event(event), to: subscribers) }
        for waiter in due { waiter.resume() }
    }

    /// Yields `item` to every watcher (or `subscribers`), outside the lock, and cuts off those whose buffer is full.
    private func fanOut(
        _ item: WatchCacheItem<Object>, to subscribers: [(id: Int, continuation: CachedEventStream<Object>.Continuation)]? = nil
    ) {
        let targets = subscribers ?? state.withLock { $0.subscribers.all }
        let slow = StreamSubscribers.deliver(CollectionOfOne(item), to: targets)
        let cutOff = slow.isEmpty ? [] : state.withLock { $0.subscribers.remove(slow) }
        if !cutOff.isEmpty {
            logger.notice(
                "ended watchers that fell behind; their clients re-list",
                metadata: ["prefix": "\(keyPrefix)", "watchers": "\(cutOff.count)", "buffer": "\(bufferLimit)"])
        }
        for continuation in cutOff {
            continuation.finish(throwing: StorageError(.unavailable, message: "watcher fell more than \(bufferLimit) events behind"))
        }
    }

    // MARK: Reads

    /// Whether the cache has loaded.
    public var isReady: Bool { state.withLock { $0.ready } }

    /// Waits until the cache reflects `revision` (or `timeout` passes); returns whether it does. Meanwhile it asks
    /// storage for watch progress, so a revision made by another resource's write is reached too (kube's consistent
    /// reads from cache).
    public func waitUntilFresh(_ revision: Int64, timeout: Duration = .seconds(3)) async -> Bool {
        let isFresh = { self.state.withLock { $0.ready && $0.revision >= revision } }
        if isFresh() { return true }
        let id = state.withLock { state -> Int in
            state.nextWaiterID += 1
            state.unregisteredWaiters.insert(state.nextWaiterID)
            return state.nextWaiterID
        }
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                while !Task.isCancelled {
                    await self.storage.requestWatchProgress()
                    try? await Task.sleep(for: .milliseconds(50))
                }
            }
            group.addTask {
                await withCheckedContinuation { continuation in
                    let resumeNow = self.state.withLock { state -> Bool in
                        if state.abandonedWaiters.remove(id) != nil { return true }
                        state.unregisteredWaiters.remove(id)
                        if state.ready && state.revision >= revision { return true }
                        state.waiters.append((id, revision, continuation))
                        return false
                    }
                    if resumeNow { continuation.resume() }
                }
            }
            group.addTask { try? await Task.sleep(for: timeout) }
            // The first of the waiter and the timeout, which also ends early when this task is cancelled (the progress
            // requester never ends by itself).
            await group.next()
            group.cancelAll()
            // Release this call's own waiter, registered or not yet; other callers' waiters stay.
            let mine = self.state.withLock { state -> CheckedContinuation<Void, Never>? in
                if let index = state.waiters.firstIndex(where: { $0.id == id }) { return state.waiters.remove(at: index).continuation }
                if state.unregisteredWaiters.remove(id) != nil { state.abandonedWaiters.insert(id) }
                return nil
            }
            mine?.resume()
        }
        return isFresh()
    }

    /// The named object and its serialisation when the cache already reflects `revision` (`.some(nil)`: no such
    /// object at that state); nil when the cache is behind `revision` or not loaded, so the caller reads storage.
    public func entry(named name: String, freshAt revision: Int64) -> CachedObject?? {
        state.withLock { state in
            guard state.ready, state.revision >= revision else { return nil }
            return .some(state.objects[name])
        }
    }

    /// How many objects the cache holds (kube's `apiserver_storage_objects`).
    public var objectCount: Int { state.withLock { $0.objects.count } }

    /// Every cached object, sorted by name, and the revision they reflect.
    public func snapshot() -> (objects: [CachedObject], revision: Int64) {
        state.withLock { state in
            (Self.sorted(&state), state.revision)
        }
    }

    /// Every cached object's serialisation, in name order, and the revision they reflect: an unfiltered list.
    public func snapshotJSON() -> (json: [[UInt8]], revision: Int64) {
        state.withLock { state in
            if let json = state.sortedJSON { return (json, state.revision) }
            let json = Self.sorted(&state).map(\.json)
            state.sortedJSON = json
            return (json, state.revision)
        }
    }

    private static func sorted(_ state: inout State) -> [CachedObject] {
        if let sorted = state.sortedObjects { return sorted }
        let names: [String]
        if let sorted = state.sortedNames {
            names = sorted
        } else {
            names = state.objects.keys.sorted()
            state.sortedNames = names
        }
        let objects = names.map { state.objects[$0]! }
        state.sortedObjects = objects
        return objects
    }

    /// Events after `revision`: from the cache's history, or, for a revision older than that, from storage's change
    /// log first (so a watch resumes across a restart of this server); nil when the cache is not loaded. Throws
    /// storage's `.compacted` when storage no longer has the changes either.
    public func watch(after revision: Int64) async throws -> WatchCacheSubscription<Object>? {
        if let subscription = subscribe(after: revision, backlog: [], backlogEnd: revision) { return subscription }
        guard isReady else { return nil }
        var backlog: [CachedEvent<Object>] = []
        var cursor = revision
        // Bounded: a cache whose history never catches up with the log (it cannot, as it follows storage) gives up.
        for _ in 0..<1_000 {
            let page = try await storage.changes(after: cursor, limit: 10_000)
            for change in page {
                cursor = change.revision
                if let event = try cachedEvent(change) { backlog.append(event) }
            }
            if let subscription = subscribe(after: revision, backlog: backlog, backlogEnd: cursor) { return subscription }
            if page.isEmpty { try await Task.sleep(for: .milliseconds(10)) }
        }
        return nil
    }

    /// Subscribes with `backlog` (events up to `backlogEnd`) then the history after it, if the history reaches back
    /// that far.
    private func subscribe(after revision: Int64, backlog: [CachedEvent<Object>], backlogEnd: Int64) -> WatchCacheSubscription<Object>? {
        let subscription: (stream: WatchCacheSubscription<Object>, extra: Void)? = subscribe { state in
            guard state.ready, backlogEnd >= state.floor else { return nil }
            return (backlog + state.history[state.historyStart...].filter { $0.revision > backlogEnd && $0.revision > revision }, ())
        }
        return subscription?.stream
    }

    /// A change from storage's log as a cache event (nil for other resources' keys).
    private func cachedEvent(_ change: StorageChange) throws -> CachedEvent<Object>? {
        guard change.kind != .progress, change.object.key.hasPrefix(keyPrefix) else { return nil }
        let name = String(change.object.key.dropFirst(keyPrefix.count))
        let object = try read(change.object.value, name: name, revision: change.revision)
        switch change.kind {
        case .delete:
            return CachedEvent(type: .deleted, object: object, previous: nil, revision: change.revision)
        default:
            let previous = try change.previousValue.map { try read($0, name: name, revision: change.revision) }
            return CachedEvent(type: previous == nil ? .added : .modified, object: object, previous: previous, revision: change.revision)
        }
    }

    /// The current objects plus the events after them, taken atomically (no gap, no overlap).
    public func watchFromCurrentState() -> (objects: [CachedObject], revision: Int64, stream: WatchCacheSubscription<Object>)? {
        let subscription: (stream: WatchCacheSubscription<Object>, extra: ([CachedObject], Int64))? = subscribe { state in
            guard state.ready else { return nil }
            return ([], (Self.sorted(&state), state.revision))
        }
        return subscription.map { ($0.extra.0, $0.extra.1, $0.stream) }
    }

    private func subscribe<Extra>(
        _ prepare: (inout State) -> (backlog: [CachedEvent<Object>], extra: Extra)?
    ) -> (stream: WatchCacheSubscription<Object>, extra: Extra)? {
        state.withLock { state in
            guard let (backlog, extra) = prepare(&state) else { return nil }
            let (stream, continuation) = CachedEventStream<Object>.makeStream(
                bufferingPolicy: .bufferingOldest(bufferLimit + backlog.count))
            for event in backlog { continuation.yield(.event(event)) }
            let id = state.subscribers.add(continuation)
            continuation.onTermination = { [weak self] _ in
                _ = self?.state.withLock { $0.subscribers.remove([id]) }
            }
            return (.init(stream: stream, continuation: continuation), extra)
        }
    }

    /// Number of live watchers.
    public var watcherCount: Int { state.withLock { $0.subscribers.count } }
}

/// A watcher's stream with the means to end it early (graceful shutdown ends every watch this way).
public struct WatchCacheSubscription<Object: APIObject>: Sendable {
    /// Changes and ticks.
    public let stream: CachedEventStream<Object>
    let continuation: CachedEventStream<Object>.Continuation

    /// A subscription to `stream`, ended by finishing `continuation`.
    public init(stream: CachedEventStream<Object>, continuation: CachedEventStream<Object>.Continuation) {
        self.stream = stream
        self.continuation = continuation
    }

    /// Ends the stream after the elements already buffered.
    public func finish() { continuation.finish() }
}
