public import NIOCore
import NIOHTTP1
public import NIOPosix
public import NIOSSL
import NIOTLS

/// A response read in full.
public struct HTTPClientResponse: Sendable {
    /// Status code.
    public var status: Int
    /// Header fields, in order.
    public var headers: [(name: String, value: String)]
    /// Body bytes.
    public var body: [UInt8]

    /// The first value of a header (case-insensitive).
    public func header(_ name: String) -> String? {
        headers.first { $0.name.lowercased() == name.lowercased() }?.value
    }

    /// Every value of a header (case-insensitive).
    public func headerValues(_ name: String) -> [String] {
        headers.filter { $0.name.lowercased() == name.lowercased() }.map(\.value)
    }

    /// The body as UTF-8 text.
    public var text: String { String(decoding: body, as: UTF8.self) }
}

/// Why a request failed below HTTP.
public struct HTTPClientError: Error, Sendable, CustomStringConvertible {
    /// What went wrong.
    public var message: String
    public var description: String { message }

    /// Creates an error.
    public init(message: String) { self.message = message }
}

/// One keep-alive HTTP/1.1 connection over SwiftNIO. Concurrent requests are pipelined in order; open several
/// connections for parallelism. Small on purpose: tests, benchmarks and the CLI talk to our own server.
public final class HTTPConnection: Sendable {
    private let channel: any Channel
    private let host: String

    private init(channel: any Channel, host: String) {
        self.channel = channel
        self.host = host
    }

    /// Connects to `host:port`; with `tls`, speaks HTTPS and returns once the TLS handshake has succeeded.
    /// `serverName` is the name sent as SNI and checked against the certificate (default: `host` unless it is an
    /// IP address, in which case the certificate's IP SANs are checked against the peer address).
    public static func connect(
        host: String, port: Int, group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        tls: TLSConfiguration? = nil, serverName: String? = nil
    ) async throws -> HTTPConnection {
        // Plain HTTP (tls == nil) builds exactly the pipeline it always had.
        let sslContext = try tls.map { try NIOSSLContext(configuration: $0) }
        // SNI must not carry an IP address (RFC 6066), and NIOSSL refuses one.
        let sniName = sslContext == nil ? nil : serverName ?? (isIPAddress(host) ? nil : host)
        let handshake = sslContext.map { _ in TLSHandshakeWaiter() }
        let channel = try await ClientBootstrap(group: group)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    if let sslContext, let handshake {
                        try channel.pipeline.syncOperations.addHandler(NIOSSLClientHandler(context: sslContext, serverHostname: sniName))
                        try channel.pipeline.syncOperations.addHandler(handshake)
                    }
                    try channel.pipeline.syncOperations.addHTTPClientHandlers()
                    try channel.pipeline.syncOperations.addHandler(ResponseCollector())
                }
            }
            .connect(host: host, port: port).get()
        if let handshake {
            // Wait for the handshake here so a certificate error is reported as such, not as a closed connection
            // on the first request.
            do {
                try await handshake.completed(on: channel.eventLoop).get()
            } catch {
                try? await channel.close()
                throw error
            }
        }
        return HTTPConnection(channel: channel, host: RequestTarget.authority(host: host, port: port))
    }

    /// Whether `host` is an IPv4 or IPv6 literal rather than a name (no SNI for it; its certificate has IP SANs).
    public static func isIPAddress(_ host: String) -> Bool {
        (try? SocketAddress(ipAddress: host, port: 0)) != nil
    }

    /// Sends a request and reads the whole response.
    public func request(
        _ method: String, _ path: String, headers: [(String, String)] = [], body: [UInt8]? = nil
    ) async throws -> HTTPClientResponse {
        var head = HTTPRequestHead(version: .http1_1, method: HTTPMethod(rawValue: method), uri: path)
        head.headers.add(name: "Host", value: host)
        for (name, value) in headers { head.headers.add(name: name, value: value) }
        if let body {
            head.headers.replaceOrAdd(name: "Content-Length", value: String(body.count))
        } else if ["POST", "PUT", "PATCH", "DELETE"].contains(method) {
            head.headers.replaceOrAdd(name: "Content-Length", value: "0")
        }
        let promise = channel.eventLoop.makePromise(of: HTTPClientResponse.self)
        let request = PendingRequest(head: head, body: body.map { ByteBuffer(bytes: $0) }, promise: promise)
        channel.writeAndFlush(request).whenFailure { promise.fail($0) }
        return try await promise.futureResult.get()
    }

    /// Sends a request whose response body streams (a watch): returns the status and headers as soon as they
    /// arrive, and the body as newline-delimited lines. Use a connection of its own for it.
    public func streamLines(
        _ method: String, _ path: String, headers: [(String, String)] = []
    ) async throws -> (response: HTTPClientResponse, lines: LineSequence<AsyncThrowingStream<ByteBuffer, any Error>>) {
        var head = HTTPRequestHead(version: .http1_1, method: HTTPMethod(rawValue: method), uri: path)
        head.headers.add(name: "Host", value: host)
        for (name, value) in headers { head.headers.add(name: name, value: value) }
        let promise = channel.eventLoop.makePromise(of: HTTPClientResponse.self)
        let (chunks, sink) = AsyncThrowingStream.makeStream(of: ByteBuffer.self)
        let request = PendingRequest(head: head, body: nil, promise: promise, bodySink: sink)
        channel.writeAndFlush(request).whenFailure { promise.fail($0) }
        let response = try await promise.futureResult.get()
        let lines = LineSequence(base: chunks)
        return (response, lines)
    }

    /// Closes the connection.
    public func close() async {
        try? await channel.close()
    }
}

/// Completes once the TLS handshake succeeds, or fails with the first error (a bad certificate, say) or the
/// connection closing before it finished. Lives on the channel's event loop only.
final class TLSHandshakeWaiter: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = NIOAny

    private var promise: EventLoopPromise<Void>?
    private var outcome: Result<Void, any Error>?

    /// The handshake's outcome, as a future on `eventLoop` (the channel's).
    func completed(on eventLoop: any EventLoop) -> EventLoopFuture<Void> {
        eventLoop.flatSubmit {
            if let outcome = self.outcome { return eventLoop.makeCompletedFuture(outcome) }
            let promise = self.promise ?? eventLoop.makePromise(of: Void.self)
            self.promise = promise
            return promise.futureResult
        }
    }

    private func finish(_ result: Result<Void, any Error>) {
        guard outcome == nil else { return }
        outcome = result
        promise?.completeWith(result)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let event = event as? TLSUserEvent, case .handshakeCompleted = event { finish(.success(())) }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        finish(.failure(error))
        context.fireErrorCaught(error)
    }

    func channelInactive(context: ChannelHandlerContext) {
        finish(.failure(HTTPClientError(message: "connection closed during the TLS handshake")))
        context.fireChannelInactive()
    }
}

/// A request handed to the pipeline with the promise its response completes.
struct PendingRequest: Sendable {
    var head: HTTPRequestHead
    var body: ByteBuffer?
    var promise: EventLoopPromise<HTTPClientResponse>
    /// For streamed responses: `promise` completes at the head and body parts flow here.
    var bodySink: AsyncThrowingStream<ByteBuffer, any Error>.Continuation?
}

/// Writes requests and completes their promises with responses, in order.
final class ResponseCollector: ChannelDuplexHandler {
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundIn = PendingRequest
    typealias OutboundOut = HTTPClientRequestPart

    private var waiting = CircularBuffer<PendingRequest>()
    private var status = 0
    private var headers: [(name: String, value: String)] = []
    private var body: [UInt8] = []

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let request = unwrapOutboundIn(data)
        waiting.append(request)
        context.write(wrapOutboundOut(.head(request.head)), promise: nil)
        if let body = request.body, body.readableBytes > 0 {
            context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil)
        }
        context.write(wrapOutboundOut(.end(nil)), promise: promise)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            status = Int(head.status.code)
            headers = head.headers.map { ($0.name, $0.value) }
            body = []
            if let first = waiting.first, first.bodySink != nil {
                first.promise.succeed(HTTPClientResponse(status: status, headers: headers, body: []))
            }
        case .body(let buffer):
            if let sink = waiting.first?.bodySink {
                sink.yield(buffer)
            } else {
                body.append(contentsOf: buffer.readableBytesView)
            }
        case .end:
            guard !waiting.isEmpty else { return }
            let request = waiting.removeFirst()
            if let sink = request.bodySink {
                sink.finish()
            } else {
                request.promise.succeed(HTTPClientResponse(status: status, headers: headers, body: body))
            }
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        failAll(error)
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        failAll(HTTPClientError(message: "connection closed before the response ended"))
        context.fireChannelInactive()
    }

    private func failAll(_ error: any Error) {
        while !waiting.isEmpty {
            let request = waiting.removeFirst()
            request.promise.fail(error)
            request.bodySink?.finish(throwing: error)
        }
    }
}

/// The lines (without newlines) of a stream of byte chunks.
public struct LineSequence<Base: AsyncSequence & Sendable>: AsyncSequence, Sendable where Base.Element == ByteBuffer {
    public typealias Element = String
    let base: Base

    public func makeAsyncIterator() -> AsyncIterator { AsyncIterator(base: base.makeAsyncIterator()) }

    /// Iterates lines in time linear in the bytes read: each byte is scanned for a newline once, and consumed lines
    /// are dropped only once they are at least half of the buffer (a watch line of 2 MB arriving in 4 KB pieces is
    /// not rescanned from its start on every piece).
    public struct AsyncIterator: AsyncIteratorProtocol {
        var base: Base.AsyncIterator
        var pending: [UInt8] = []
        /// Where the current line starts in `pending`.
        var start = 0
        /// Where the newline search resumes: the bytes of the current line before it hold none.
        var scanFrom = 0
        var done = false

        public mutating func next() async throws -> String? {
            while true {
                if let newline = pending[scanFrom...].firstIndex(of: 0x0A) {
                    let line = String(decoding: pending[start..<newline], as: UTF8.self)
                    start = newline + 1
                    scanFrom = start
                    return line
                }
                scanFrom = pending.count
                if done {
                    guard start < pending.count else { return nil }
                    defer {
                        pending = []
                        start = 0
                        scanFrom = 0
                    }
                    return String(decoding: pending[start...], as: UTF8.self)
                }
                if let chunk = try await base.next() {
                    if start > 0, start * 2 >= pending.count {
                        pending.removeSubrange(..<start)
                        scanFrom -= start
                        start = 0
                    }
                    pending.append(contentsOf: chunk.readableBytesView)
                } else {
                    done = true
                }
            }
        }
    }
}
