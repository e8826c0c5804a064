import AsyncHTTPClient
public import NIOCore
import NIOHTTP1
public import NIOSSL

/// An HTTP client for one server on async-http-client: pooled keep-alive connections (HTTP/1.1, or HTTP/2 when TLS
/// negotiates it), a connect timeout, a deadline per request, TLS with client certificates and a certificate name
/// other than the host (kubeconfig's `tls-server-name`), and response bodies read up to a bound. The CLI and the
/// control plane use it; `HTTPConnection` stays for tests and the benchmark, which need one exact connection.
public final class PooledHTTPClient: Sendable {
    /// Where requests go: `http(s)://name:port`, where name is `serverName` when one is given (the connection still
    /// goes to the host, through a DNS override, so SNI and the certificate check use the name).
    private let origin: String
    private let client: HTTPClient
    /// The largest response body `request` reads; a longer one fails instead of growing without bound.
    public let maxResponseBytes: Int

    /// The limits a client is created with.
    public struct Limits: Sendable {
        /// Time to open a TCP connection (and finish TLS).
        public var connect: Duration
        /// The largest response body read in full.
        public var maxResponseBytes: Int

        /// Creates limits; the defaults suit an API server on a LAN: 10 s to connect, 256 MiB of body.
        public init(connect: Duration = .seconds(10), maxResponseBytes: Int = 256 << 20) {
            self.connect = connect
            self.maxResponseBytes = maxResponseBytes
        }
    }

    /// Creates a client for `host:port`, HTTPS with `tls`. No connection is made until the first request. Call
    /// `shutdown()` when done (or use `withClient`).
    public init(host: String, port: Int, tls: TLSConfiguration? = nil, serverName: String? = nil, limits: Limits = Limits()) {
        var configuration = HTTPClient.Configuration(
            tlsConfiguration: tls, redirectConfiguration: .disallow,
            timeout: HTTPClient.Configuration.Timeout(connect: TimeAmount(limits.connect)))
        // A refused or failed connection fails the request at once (the callers report it, or back off themselves),
        // instead of being retried until the request's deadline.
        configuration.connectionPool.retryConnectionEstablishment = false
        var name = host
        if tls != nil, let serverName, serverName != host {
            name = serverName
            configuration.dnsOverride = [serverName: host]
        }
        origin = "\(tls == nil ? "http" : "https")://\(RequestTarget.authority(host: name, port: port))"
        client = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
        maxResponseBytes = limits.maxResponseBytes
    }

    /// Runs `body` with a new client and shuts it down afterwards, whatever happens.
    public static func withClient<T: Sendable>(
        host: String, port: Int, tls: TLSConfiguration? = nil, serverName: String? = nil, limits: Limits = Limits(),
        _ body: (PooledHTTPClient) async throws -> T
    ) async throws -> T {
        let client = PooledHTTPClient(host: host, port: port, tls: tls, serverName: serverName, limits: limits)
        return try await withCleanup {
            try await body(client)
        } cleanup: {
            await client.shutdown()
        }
    }

    /// Closes every pooled connection and ends requests still running.
    public func shutdown() async {
        try? await client.shutdown()
    }

    private func makeRequest(_ method: String, _ target: String, headers: [(String, String)], body: [UInt8]?) -> HTTPClientRequest {
        var request = HTTPClientRequest(url: origin + target)
        request.method = HTTPMethod(rawValue: method)
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if let body {
            request.body = .bytes(ByteBuffer(bytes: body))
        } else if ["POST", "PUT", "PATCH"].contains(method) {
            request.headers.replaceOrAdd(name: "Content-Length", value: "0")
        }
        return request
    }

    private static func head(_ response: AsyncHTTPClient.HTTPClientResponse) -> HTTPClientResponse {
        HTTPClientResponse(status: Int(response.status.code), headers: response.headers.map { ($0.name, $0.value) }, body: [])
    }

    /// Sends a request to `target` (a path with its query, percent-encoded) and reads the whole response, within
    /// `timeout` (nil: no deadline). A body over `maxResponseBytes` fails with `HTTPClientError`.
    public func request(
        _ method: String, _ target: String, headers: [(String, String)] = [], body: [UInt8]? = nil, timeout: Duration? = nil
    ) async throws -> HTTPClientResponse {
        let deadline = timeout.map { NIODeadline.now() + TimeAmount($0) } ?? .distantFuture
        do {
            let response = try await client.execute(makeRequest(method, target, headers: headers, body: body), deadline: deadline)
            var result = Self.head(response)
            result.body = Array(buffer: try await response.body.collect(upTo: maxResponseBytes))
            return result
        } catch is NIOTooManyBytesError {
            throw HTTPClientError(message: "the response body is larger than \(maxResponseBytes) bytes")
        } catch {
            throw Self.plain(error)
        }
    }

    /// Sends a request whose response body streams (a watch): returns the status and headers as soon as they arrive,
    /// and the body as newline-delimited lines. No deadline: it lasts until the server ends it or the task reading
    /// the lines is cancelled.
    public func streamLines(
        _ method: String, _ target: String, headers: [(String, String)] = []
    ) async throws -> (response: HTTPClientResponse, lines: LineSequence<ResponseBodyChunks>) {
        do {
            let response = try await client.execute(makeRequest(method, target, headers: headers, body: nil), deadline: .distantFuture)
            return (Self.head(response), LineSequence(base: ResponseBodyChunks(body: response.body)))
        } catch {
            throw Self.plain(error)
        }
    }

    /// async-http-client's own errors in words (`HTTPClientError`); the socket, DNS and TLS errors below it are
    /// passed on as they are, for callers to describe.
    static func plain(_ error: any Error) -> any Error {
        guard let error = error as? AsyncHTTPClient.HTTPClientError else { return error }
        switch error {
        case .deadlineExceeded: return HTTPClientError(message: "the request timed out")
        case .connectTimeout: return HTTPClientError(message: "connection timed out")
        case .readTimeout: return HTTPClientError(message: "timed out reading the response")
        case .remoteConnectionClosed: return HTTPClientError(message: "the server closed the connection before the response ended")
        case .cancelled: return CancellationError()
        default: return HTTPClientError(message: "\(error)")
        }
    }
}

/// The chunks of a streamed response body, as they arrive.
public struct ResponseBodyChunks: AsyncSequence, Sendable {
    public typealias Element = ByteBuffer
    let body: AsyncHTTPClient.HTTPClientResponse.Body

    public func makeAsyncIterator() -> AsyncIterator { AsyncIterator(base: body.makeAsyncIterator()) }

    /// Iterates the body's chunks.
    public struct AsyncIterator: AsyncIteratorProtocol {
        var base: AsyncHTTPClient.HTTPClientResponse.Body.AsyncIterator

        public mutating func next() async throws -> ByteBuffer? {
            do {
                return try await base.next()
            } catch {
                throw PooledHTTPClient.plain(error)
            }
        }
    }
}

extension TimeAmount {
    init(_ duration: Duration) {
        let (seconds, attoseconds) = duration.components
        self = .nanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }
}
