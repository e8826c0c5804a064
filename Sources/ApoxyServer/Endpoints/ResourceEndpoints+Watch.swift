import ApoxyAPI
import ApoxyRegistry
import HTTPTypes
import Hummingbird
import NIOCore
import ServiceLifecycle

extension ResourceEndpoints {
    /// What the response loop of one watch reacts to.
    enum WatchItem: Sendable {
        case event(CachedEvent<Object>)
        case tick
        case end
        case failed
    }

    /// `?watch=true`: a newline-delimited stream of `WatchEvent`s (chunked on HTTP/1.1), with bookmarks,
    /// `timeoutSeconds`, selectors, Table rendering for `kubectl get -w`, and graceful shutdown.
    func watch(_ request: Request, query: QueryParameters, format: ResponseFormat, channel: any Channel) async throws -> Response {
        var options = WatchOptions()
        options.list = try listOptions(query)
        options.allowBookmarks = query.flag("allowWatchBookmarks")
        if let value = query["sendInitialEvents"] { options.sendInitialEvents = value == "true" || value == "1" }
        var requestedTimeout: Duration?
        if let text = query["timeoutSeconds"], !text.isEmpty {
            guard let seconds = Int(text), seconds >= 0 else {
                throw StatusError.badRequest("timeoutSeconds: Invalid value: \"\(text)\": must be a non-negative integer")
            }
            if seconds > 0 { requestedTimeout = .seconds(seconds) }
        }
        let timeout = requestedTimeout
        let subscription = try await store.watch(options: options)
        let listOptions = options.list
        let allowBookmarks = options.allowBookmarks
        let bookmarkInterval = self.bookmarkInterval
        let includeObject = query["includeObject"] ?? "Metadata"
        return Response(
            status: .ok, headers: [.contentType: "application/json"],
            body: ResponseBody { writer in
                var lastRevision = subscription.revision
                var lastBookmark = ContinuousClock.now
                func line(_ type: String, _ object: [UInt8]) -> ByteBuffer {
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
                        let table = (try? self.table([object], resourceVersion: object.metadata.resourceVersion, continueToken: nil, includeObject: includeObject)) ?? .null
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
                let (items, itemSink) = AsyncStream.makeStream(of: WatchItem.self, bufferingPolicy: .unbounded)
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask {
                        do {
                            for try await event in subscription.events { itemSink.yield(.event(event)) }
                            itemSink.yield(.end)
                        } catch {
                            itemSink.yield(.failed)
                        }
                    }
                    group.addTask {
                        // Ticks drive bookmarks and notice a client that went away while nothing matched it.
                        while !Task.isCancelled {
                            try await Task.sleep(for: min(bookmarkInterval, .seconds(1)))
                            itemSink.yield(.tick)
                        }
                    }
                    if let timeout {
                        group.addTask {
                            try await Task.sleep(for: timeout)
                            itemSink.yield(.end)
                        }
                    }
                    // Graceful shutdown ends the stream cleanly, so the server can drain.
                    try await withGracefulShutdownHandler {
                        loop: for await item in items {
                            switch item {
                            case .event(let event):
                                guard event.revision > lastRevision else { continue }
                                lastRevision = event.revision
                                if let filtered = self.store.filter(event, listOptions) {
                                    try await writer.write(render(filtered.type, filtered.json))
                                }
                            case .tick:
                                if !channel.isActive { break loop }
                                if allowBookmarks && ContinuousClock.now - lastBookmark >= bookmarkInterval {
                                    lastBookmark = ContinuousClock.now
                                    try await writer.write(bookmark(lastRevision, initialEventsEnd: false))
                                }
                            case .end, .failed:
                                break loop
                            }
                        }
                    } onGracefulShutdown: {
                        itemSink.yield(.end)
                    }
                    group.cancelAll()
                    itemSink.finish()
                }
                try await writer.finish(nil)
            })
    }
}
