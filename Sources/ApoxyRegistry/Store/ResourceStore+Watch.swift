public import ApoxyAPI
import ApoxyStorage

/// Options of a watch request.
public struct WatchOptions: Sendable {
    public var list = ListOptions()
    public var allowBookmarks = false
    /// `sendInitialEvents`: nil when absent.
    public var sendInitialEvents: Bool?

    /// Creates options.
    public init() {}
}

/// An accepted watch: the synthetic initial events (already filtered), the revision they reflect, and the changes after.
public struct WatchSubscription<Object: APIObject>: Sendable {
    /// Objects to send as ADDED before any change.
    public var initial: [CachedObject]
    /// Whether to end the initial events with a bookmark annotated `k8s.io/initial-events-end`.
    public var initialEventsEnd: Bool
    /// The revision the initial state reflects (or the requested start revision).
    public var revision: Int64
    /// Changes after `revision`, unfiltered, with ticks; `finish()` ends them early.
    public var events: WatchCacheSubscription<Object>
    /// When set, the requested revision was too old: send this as an ERROR event and end.
    public var expired: StatusError?
}

/// A change as one watcher sees it, after selectors.
public struct FilteredEvent: Sendable {
    public var type: WatchEventType
    /// The object serialised: the shared cached bytes, unless this watcher sees a previous state.
    public var json: [UInt8]
}

extension ResourceStore {
    /// Starts a watch with kube's resourceVersion semantics: unset = current state then changes (consistent);
    /// "0" = any recent state then changes; N = changes after N (410 ERROR when too old); `sendInitialEvents`
    /// (watch-list) = current state, an initial-events-end bookmark, then changes.
    public func watch(options: WatchOptions) async throws(StatusError) -> WatchSubscription<Object> {
        guard let cache else { throw .methodNotAllowed("watch is not enabled on this server") }
        let version = options.list.resourceVersion ?? ""
        if let sendInitialEvents = options.sendInitialEvents {
            var causes: [FieldError] = []
            if options.list.resourceVersionMatch != "NotOlderThan" {
                causes.append(
                    FieldError(
                        .forbidden, "resourceVersionMatch", nil, "sendInitialEvents requires setting resourceVersionMatch to NotOlderThan"))
            }
            if sendInitialEvents && !options.allowBookmarks {
                causes.append(
                    FieldError(.forbidden, "allowWatchBookmarks", nil, "sendInitialEvents requires setting allowWatchBookmarks to true"))
            }
            if !causes.isEmpty { throw StatusError.invalid(kind: "ListOptions", group: "meta.k8s.io", name: "", causes) }
        } else if let match = options.list.resourceVersionMatch, !match.isEmpty {
            throw StatusError.invalid(
                kind: "ListOptions", group: "meta.k8s.io", name: "",
                [
                    FieldError(
                        .forbidden, "resourceVersionMatch", nil,
                        "resourceVersionMatch is forbidden for watch unless sendInitialEvents is provided")
                ])
        }
        var requested: Int64 = 0
        if !version.isEmpty, version != "0" {
            guard let parsed = Int64(version), parsed > 0 else {
                throw .badRequest("invalid resourceVersion \"\(version)\": must be a positive integer")
            }
            requested = parsed
        }
        let current = try await run(name: "") { try await storage.currentRevision() }
        let consistent = version.isEmpty ? current : requested
        guard await cache.waitUntilFresh(consistent) else {
            throw .unavailable("the watch cache is not ready; retry")
        }
        let wantsInitialState = options.sendInitialEvents ?? (version.isEmpty || version == "0")
        if wantsInitialState {
            guard let start = cache.watchFromCurrentState() else { throw .unavailable("the watch cache is not ready; retry") }
            return WatchSubscription(
                initial: start.objects.filter { matches($0, options.list) }, initialEventsEnd: options.sendInitialEvents == true,
                revision: start.revision, events: start.stream, expired: nil)
        }
        let startRevision = version.isEmpty ? current : requested
        var resumed: WatchCacheSubscription<Object>?
        do {
            resumed = try await cache.watch(after: startRevision)
        } catch let error as StorageError {
            if case .compacted = error.code {} else { throw statusError(for: error, name: "") }
        } catch {
            throw .internalError("\(error)")
        }
        if let stream = resumed {
            return WatchSubscription(initial: [], initialEventsEnd: false, revision: startRevision, events: stream, expired: nil)
        }
        let (empty, continuation) = CachedEventStream<Object>.makeStream()
        continuation.finish()
        return WatchSubscription(
            initial: [], initialEventsEnd: false, revision: startRevision,
            events: WatchCacheSubscription(stream: empty, continuation: continuation),
            expired: .expired("too old resource version: \(startRevision) (\(current))"))
    }

    /// What one watcher with `options` sees of `event`: ADDED when an object starts matching, DELETED (its previous
    /// state at the event's revision) when it stops, nothing when it never matched.
    public func filter(_ event: CachedEvent<Object>, _ options: ListOptions) -> FilteredEvent? {
        let filtering =
            !options.labelSelector.isEmpty || !options.fieldSelector.isEmpty || (descriptor.namespaced && options.namespace != nil)
        if !filtering { return FilteredEvent(type: event.type, json: event.object.json) }
        switch event.type {
        case .added:
            return matches(event.object, options) ? FilteredEvent(type: .added, json: event.object.json) : nil
        case .deleted:
            let matched = event.previous.map { matches($0, options) } ?? matches(event.object, options)
            return matched ? FilteredEvent(type: .deleted, json: event.object.json) : nil
        case .modified:
            let now = matches(event.object, options)
            let before = event.previous.map { matches($0, options) } ?? false
            switch (before, now) {
            case (true, true): return FilteredEvent(type: .modified, json: event.object.json)
            case (false, true): return FilteredEvent(type: .added, json: event.object.json)
            case (true, false):
                guard let previous = event.previous else { return nil }
                var object: Object = previous.decoded()
                object.metadata.resourceVersion = String(event.revision)
                return FilteredEvent(type: .deleted, json: object.json.serialized())
            case (false, false): return nil
            }
        }
    }
}
