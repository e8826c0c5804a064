import ApoxyAPI
import ApoxyRegistry
import HTTPTypes
import Hummingbird
import NIOCore
import Prometheus
import ServiceLifecycle

extension ResourceEndpoints {
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
        let listOptions = options.list
        let allowBookmarks = options.allowBookmarks
        let bookmarkInterval = self.bookmarkInterval
        let includeObject = query["includeObject"] ?? "Metadata"
        let metrics = watchMetrics
        return Response(
            status: .ok, headers: [.contentType: "application/json"],
            body: ResponseBody { writer in
                metrics?.watchers.increment()
                defer { metrics?.watchers.decrement() }
                var lastRevision = subscription.revision
                var lastBookmark = ContinuousClock.now
                func line(_ type: String, _ object: [UInt8]) -> ByteBuffer {
                    metrics?.events.increment()
                    var buffer = ByteBuffer()
                    buffer.reserveCapacity(object.count + 32)
                    buffer.writeString("{\"type\":\"\(type)\",\"object\":")
                    buffer.writeBytes(object)
                    buffer.writeString("}\n")
                    return buffer
                }
                func render(_ type: WatchEventType, _ json: [UInt8]) -> ByteBuffer {
                    switch format {
                    case .json:
                        return line(type.rawValue, json)
                    case .table:
                        let object: Object = CachedObject.decode(json)
                        let table =
                            (try? self.table(
                                [object], resourceVersion: object.metadata.resourceVersion, continueToken: nil, includeObject: includeObject
                            )) ?? .null
                        return line(type.rawValue, table.serialized())
                    }
                }
                func bookmark(_ revision: Int64, initialEventsEnd: Bool) -> ByteBuffer {
                    var metadata: [String: JSONValue] = ["resourceVersion": .string(String(revision))]
                    if initialEventsEnd { metadata["annotations"] = ["k8s.io/initial-events-end": "true"] }
                    let object: JSONValue = [
                        "kind": .string(self.descriptor.kind), "apiVersion": .string(self.descriptor.apiVersion),
                        "metadata": .object(metadata),
                    ]
                    return line("BOOKMARK", object.serialized())
                }
                if let expired = subscription.expired {
                    try await writer.write(line("ERROR", expired.json.serialized()))
                    try await writer.finish(nil)
                    return
                }
                for object in subscription.initial {
                    try await writer.write(render(.added, object.json))
                }
                if subscription.initialEventsEnd {
                    try await writer.write(bookmark(subscription.revision, initialEventsEnd: true))
                } else if subscription.initial.isEmpty {
                    // Push the headers out now so clients know the watch is established.
                    try await writer.write(ByteBuffer())
                }
                let deadline = timeout.map { ContinuousClock.now + $0 }
                do {
                    // Graceful shutdown ends the stream, so the response ends cleanly and the server can drain.
                    try await withGracefulShutdownHandler {
                        for try await item in subscription.events.stream {
                            switch item {
                            case .event(let event):
                                guard event.revision > lastRevision else { continue }
                                lastRevision = event.revision
                                if let filtered = self.store.filter(event, listOptions) {
                                    try await writer.write(render(filtered.type, filtered.json))
                                }
                            case .tick:
                                if !channel.isActive { return }
                                let now = ContinuousClock.now
                                if let deadline, now >= deadline { return }
                                if allowBookmarks && now - lastBookmark >= bookmarkInterval {
                                    lastBookmark = now
                                    try await writer.write(bookmark(lastRevision, initialEventsEnd: false))
                                }
                            }
                        }
                    } onGracefulShutdown: {
                        subscription.events.finish()
                    }
                } catch {
                    // The stream ended with an error (the watcher fell behind or the cache restarted), or shutdown
                    // cancelled the loop: end the response cleanly and let the client resume from its last version.
                }
                try await writer.finish(nil)
            })
    }
}
