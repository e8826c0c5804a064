import ApoxyAPI
import Hummingbird
import Logging
import NIOCore
import NIOHTTPTypes
import Synchronization

/// How much one server takes on at once, with kube-apiserver's defaults (its flags of the same names, and the
/// timeouts of its HTTP server).
public struct ServerLimits: Sendable {
    /// `--max-requests-inflight`: non-mutating requests served at once (watches excluded); past it, 429.
    public var maxRequestsInflight: Int
    /// `--max-mutating-requests-inflight`: creates, updates, patches and deletes served at once; past it, 429.
    public var maxMutatingRequestsInflight: Int
    /// `--max-watches`: open watches (long-running, so outside the two limits above, but bounded too).
    public var maxWatches: Int
    /// `--request-timeout`: a non-watch request still running after this is cancelled and answered 504.
    public var requestTimeout: Duration
    /// The time a client has to send a request's headers once it starts one (Go's ReadHeaderTimeout in kube: 32 s).
    public var readHeaderTimeout: Duration
    /// An idle keep-alive connection is closed after this (kube: 90 s).
    public var idleTimeout: Duration
    /// The most header bytes a request may carry (kube: 1 MiB).
    public var maxHeaderBytes: Int

    /// kube-apiserver's defaults.
    public init(
        maxRequestsInflight: Int = 400, maxMutatingRequestsInflight: Int = 200, maxWatches: Int = 10_000,
        requestTimeout: Duration = .seconds(60), readHeaderTimeout: Duration = .seconds(32), idleTimeout: Duration = .seconds(90),
        maxHeaderBytes: Int = 1 << 20
    ) {
        self.maxRequestsInflight = maxRequestsInflight
        self.maxMutatingRequestsInflight = maxMutatingRequestsInflight
        self.maxWatches = maxWatches
        self.requestTimeout = requestTimeout
        self.readHeaderTimeout = readHeaderTimeout
        self.idleTimeout = idleTimeout
        self.maxHeaderBytes = maxHeaderBytes
    }
}

/// Admission by kind of request (kube's max-in-flight filter): a request past its kind's limit is answered 429
/// `TooManyRequests` with `Retry-After` at once, before any work; a non-watch request that runs past the request
/// timeout is cancelled and answered 504 `Timeout`.
struct RequestLimitMiddleware<Context: RequestContext>: RouterMiddleware {
    enum Kind: Sendable {
        case readOnly, mutating, watch
    }

    /// In-flight counts, one lock for the three.
    final class Counters: Sendable {
        private let counts = Mutex([Int](repeating: 0, count: 3))

        func enter(_ kind: Kind, limit: Int) -> Bool {
            counts.withLock { counts in
                guard counts[kind.index] < limit else { return false }
                counts[kind.index] += 1
                return true
            }
        }

        func leave(_ kind: Kind) { counts.withLock { $0[kind.index] -= 1 } }

        func current(_ kind: Kind) -> Int { counts.withLock { $0[kind.index] } }
    }

    let limits: ServerLimits
    let counters: Counters
    let logger: Logger

    static func kind(of request: Request) -> Kind {
        switch request.method {
        case .post, .put, .patch, .delete: return .mutating
        default:
            let watch = QueryParameters(request.uri.query).flag("watch")
            return watch || request.uri.path.contains("/watch/") ? .watch : .readOnly
        }
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let kind = Self.kind(of: request)
        let limit: Int
        switch kind {
        case .readOnly: limit = limits.maxRequestsInflight
        case .mutating: limit = limits.maxMutatingRequestsInflight
        case .watch: limit = limits.maxWatches
        }
        guard counters.enter(kind, limit: limit) else { throw StatusError.tooManyRequests() }
        if kind == .watch {
            // A watch counts until its stream ends: the count is released when the response body is done.
            var response: Response
            do {
                response = try await next(request, context)
            } catch {
                counters.leave(kind)
                throw error
            }
            let counters = self.counters
            let body = response.body
            response.body = ResponseBody { writer in
                defer { counters.leave(.watch) }
                try await body.write(writer)
            }
            return response
        }
        defer { counters.leave(kind) }
        // The chain after this middleware is Hummingbird's composed responders, safe to call from a child task; the
        // task group ends before this returns, so `next` does not outlive the call.
        return try await withoutActuallyEscaping(next) { next in
            nonisolated(unsafe) let next = next
            return try await withTimeout(limits.requestTimeout) { try await next(request, context) }
        }
    }

    /// Runs `body`, cancelling it and throwing kube's 504 when it takes longer than `timeout`.
    private func withTimeout(_ timeout: Duration, _ body: @escaping @Sendable () async throws -> Response) async throws -> Response {
        try await withThrowingTaskGroup(of: Response?.self) { group in
            group.addTask { try await body() }
            group.addTask {
                try await Task.sleep(for: timeout)
                return nil
            }
            defer { group.cancelAll() }
            let first = try await group.next()
            guard let response = first ?? nil else {
                logger.notice("request timed out", metadata: ["timeout": "\(timeout)"])
                throw StatusError.timeout("request did not complete within requested timeout - context deadline exceeded")
            }
            return response
        }
    }
}

extension RequestLimitMiddleware.Kind {
    var index: Int {
        switch self {
        case .readOnly: 0
        case .mutating: 1
        case .watch: 2
        }
    }
}

extension StatusError {
    /// kube's 429 from its max-in-flight filter.
    static func tooManyRequests() -> StatusError {
        StatusError(code: 429, reason: .tooManyRequests, message: "Too many requests, please try again later.", retryAfterSeconds: 1)
    }

    /// kube's 504 from its request timeout filter.
    static func timeout(_ message: String) -> StatusError {
        StatusError(code: 504, reason: .timeout, message: "Timeout: \(message)")
    }
}

/// Closes a connection whose client starts a request but does not finish its headers within `timeout` (Go's
/// ReadHeaderTimeout, which kube-apiserver sets to 32 s), so a slow-loris client cannot hold connections open. It
/// installs a companion at the front of the pipeline that sees the first raw bytes of each request.
final class ReadHeaderTimeoutHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart

    /// Sees raw bytes: the first byte of a request arms the timer.
    final class FirstByteWatcher: ChannelInboundHandler, RemovableChannelHandler {
        typealias InboundIn = ByteBuffer
        let owner: ReadHeaderTimeoutHandler
        init(owner: ReadHeaderTimeoutHandler) { self.owner = owner }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            owner.bytesArrived(context: context)
            context.fireChannelRead(data)
        }
    }

    private let timeout: TimeAmount
    private var inRequest = false
    private var timer: Scheduled<Void>?

    init(timeout: Duration) {
        let (seconds, attoseconds) = timeout.components
        self.timeout = .nanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }

    func handlerAdded(context: ChannelHandlerContext) {
        try? context.pipeline.syncOperations.addHandler(FirstByteWatcher(owner: self), position: .first)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        timer?.cancel()
        timer = nil
    }

    fileprivate func bytesArrived(context: ChannelHandlerContext) {
        guard !inRequest, timer == nil else { return }
        let channel = context.channel
        timer = context.eventLoop.scheduleTask(in: timeout) { channel.close(promise: nil) }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head:
            inRequest = true
            timer?.cancel()
            timer = nil
        case .end:
            inRequest = false
        case .body:
            break
        }
        context.fireChannelRead(data)
    }

    func channelInactive(context: ChannelHandlerContext) {
        timer?.cancel()
        timer = nil
        context.fireChannelInactive()
    }
}
