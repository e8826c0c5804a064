import ApoxyAPI
public import Logging
public import ServiceLifecycle

/// Deletes Events older than the event TTL (kube's `--event-ttl`, 1 h by default), measured from when each was last
/// seen. kube attaches an etcd lease to every Event write; a periodic sweep over the watch cache gives the same
/// retention on every storage. A deletion is guarded by the Event's resourceVersion, so an Event updated meanwhile
/// (seen again) stays.
public struct EventExpiry: Service {
    let store: ResourceStore<EventStrategy>
    let ttl: Duration
    let logger: Logger
    let now: @Sendable () -> Int64

    /// An expiry of `store`'s Events after `ttl`, with `now` in seconds since the epoch.
    public init(store: ResourceStore<EventStrategy>, ttl: Duration, logger: Logger, now: @escaping @Sendable () -> Int64) {
        self.store = store
        self.ttl = ttl
        self.logger = logger
        self.now = now
    }

    /// How often the sweep runs: a tenth of the TTL, between 1 s and 1 min.
    var interval: Duration { min(max(ttl / 10, .seconds(1)), .seconds(60)) }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                try? await Task.sleep(for: interval)
                if Task.isCancelled { break }
                await sweep()
            }
        }
    }

    /// Deletes every expired Event once; returns how many went.
    @discardableResult
    public func sweep() async -> Int {
        let cutoff = now() - ttl.components.seconds
        guard let events = try? await store.list(options: ListOptions()) else { return 0 }
        var deleted = 0
        for event in events.items where (event.lastSeen ?? cutoff) < cutoff {
            var options = DeleteOptions()
            options.preconditionResourceVersion = event.metadata.resourceVersion
            if (try? await store.delete(name: event.metadata.name, namespace: event.metadata.namespace, options: options)) != nil {
                deleted += 1
            }
        }
        if deleted > 0 { logger.debug("deleted expired events", metadata: ["count": "\(deleted)"]) }
        return deleted
    }
}
