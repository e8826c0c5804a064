import ApoxyAPI
import ApoxyRegistry
import ApoxyStorage
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import Prometheus
import ServiceLifecycle

extension ResourceEndpoints {
    /// Writes one watcher's `WatchEvent` lines: objects as JSON or as Table rows (`kubectl get -w`), bookmarks and
    /// ERROR events, counting each in the watch-events metric.
    struct WatchLines {
        let endpoints: ResourceEndpoints
        let format: ResponseFormat
        let includeObject: String

        func line(_ type: String, _ object: [UInt8]) -> ByteBuffer {
            endpoints.watchMetrics?.events.increment()
            var buffer = ByteBuffer()
            buffer.reserveCapacity(object.count + 32)
            buffer.writeString("{\"type\":\"\(type)\",\"object\":")
            buffer.writeBytes(object)
            buffer.writeString("}\n")
            return buffer
        }

        func event(_ type: WatchEventType, _ json: [UInt8]) -> ByteBuffer {
            switch format {
            case .json:
                return line(type.rawValue, json)
            case .table:
                let object: Object = CachedObject.decode(json)
                let table =
                    (try? endpoints.table(
                        [object], resourceVersion: object.metadata.resourceVersion, continueToken: nil, includeObject: includeObject))
                    ?? .null
                return line(type.rawValue, table.serialized())
            }
        }

        func bookmark(_ revision: Int64, initialEventsEnd: Bool) -> ByteBuffer {
            var metadata: JSONObject = ["resourceVersion": .string(String(revision))]
            if initialEventsEnd { metadata["annotations"] = ["k8s.io/initial-events-end": "true"] }
            let object: JSONValue = [
                "kind": .string(endpoints.descriptor.kind), "apiVersion": .string(endpoints.descriptor.apiVersion),
                "metadata": .object(metadata),
            ]
            return line("BOOKMARK", object.serialized())
        }

        func error(_ status: StatusError) -> ByteBuffer { line("ERROR", status.json.serialized()) }
    }

    /// `?watch=true`: a newline-delimited stream of `WatchEvent`s (chunked on HTTP/1.1), with bookmarks,
    /// `timeoutSeconds`, selectors, Table rendering for `kubectl get -w`, and graceful shutdown.
    func watch(
        _ request: Request, query: QueryParameters, namespace: String?, format: ResponseFormat, channel: any Channel
    ) async throws -> Response {
        var options = WatchOptions()
        options.list = try listOptions(query, namespace: namespace)
        options.allowBookmarks = query.flag("allowWatchBookmarks")
        options.sendInitialEvents = query.optionalFlag("sendInitialEvents")
        var requestedTimeout: Duration?
        if let seconds = try query.int64("timeoutSeconds"), seconds > 0 { requestedTimeout = .seconds(seconds) }
        let timeout = requestedTimeout
        let subscription = try await store.watch(options: options)
        let watchOptions = options
        let lines = WatchLines(endpoints: self, format: format, includeObject: query["includeObject"] ?? "Metadata")
        return Response(
            status: .ok, headers: [.contentType: "application/json"],
            body: ResponseBody { writer in
                watchMetrics?.watchers.increment()
                defer { watchMetrics?.watchers.decrement() }
                if let expired = subscription.expired {
                    try await writer.write(lines.error(expired))
                    try await writer.finish(nil)
                    return
                }
                for object in subscription.initial {
                    try await writer.write(lines.event(.added, object.json))
                }
                if subscription.initialEventsEnd {
                    try await writer.write(lines.bookmark(subscription.revision, initialEventsEnd: true))
                } else if subscription.initial.isEmpty {
                    // Push the headers out now so clients know the watch is established.
                    try await writer.write(ByteBuffer())
                }
                do {
                    try await follow(
                        subscription, options: watchOptions, deadline: timeout.map { ContinuousClock.now + $0 }, lines: lines,
                        channel: channel, writer: &writer)
                } catch let status as StatusError {
                    // An API error mid-stream reaches the client as kube sends it: an ERROR event with the Status.
                    try? await writer.write(lines.error(status))
                } catch let error as StorageError {
                    // The cache ended this watcher (it fell behind, or the cache restarted): as kube's cacher, close
                    // the response cleanly; the client resumes from the last resourceVersion it saw.
                    logger.debug(
                        "watch ended by the watch cache", metadata: ["resource": "\(descriptor.plural)", "reason": "\(error.message)"])
                } catch {
                    // The client went away, or the server is stopping: nothing is left to tell anyone.
                    logger.trace("watch response ended", metadata: ["resource": "\(descriptor.plural)", "error": "\(error)"])
                }
                try? await writer.finish(nil)
            })
    }

    /// Forwards the subscription's changes after its start, filtered for this watcher, with bookmarks every
    /// `bookmarkInterval` when asked for; returns at the deadline, when the client is gone, or on graceful shutdown
    /// (which ends the stream, so the response ends cleanly and the server can drain).
    func follow(
        _ subscription: WatchSubscription<Object>, options: WatchOptions, deadline: ContinuousClock.Instant?, lines: WatchLines,
        channel: any Channel, writer: inout any ResponseBodyWriter
    ) async throws {
        var lastRevision = subscription.revision
        var lastBookmark = ContinuousClock.now
        try await withGracefulShutdownHandler {
            for try await item in subscription.events.stream {
                switch item {
                case .event(let event):
                    guard event.revision > lastRevision else { continue }
                    lastRevision = event.revision
                    if let filtered = store.filter(event, options.list) {
                        try await writer.write(lines.event(filtered.type, filtered.json))
                    }
                case .tick:
                    if !channel.isActive { return }
                    let now = ContinuousClock.now
                    if let deadline, now >= deadline { return }
                    if options.allowBookmarks && now - lastBookmark >= bookmarkInterval {
                        lastBookmark = now
                        try await writer.write(lines.bookmark(lastRevision, initialEventsEnd: false))
                    }
                }
            }
        } onGracefulShutdown: {
            subscription.events.finish()
        }
    }
}
