import ApoxyStorage
import Foundation
import GRPCCore
import Logging
import NIOCore
import NIOHPACK
import NIOHTTP2
import NIOPosix
import NIOSSL
import SwiftProtobuf
import Synchronization

/// etcd's request/response RPCs (Range, Txn, Compact, Status) over HTTP/2, one connection per member, round-robin
/// over the members that answer.
///
/// Why not grpc-swift's client for these: it sends a request's END_STREAM in a frame of its own after the message,
/// etcd (grpc-go) answers before reading it and then resets the stream, and grpc-swift's HTTP/2 client closes its
/// connection, failing every call in flight, once it has seen 200 resets in 10 seconds, that is after about 200
/// requests. Here the message and END_STREAM travel in one DATA frame, so etcd never needs to reset a stream.
final class EtcdUnaryClient: Sendable {
    private struct Member {
        var connection: Connection?
        /// Not tried again before this, after a failed connect.
        var downUntil: ContinuousClock.Instant?
    }

    /// One HTTP/2 connection to a member. It serves `callsPerConnection` calls and is then replaced (closed once its
    /// last call ends): on this connection etcd stopped answering after some 65 KB of responses, the size of the
    /// initial HTTP/2 connection window, which this client's HTTP/2 stack did not replenish (investigation pending;
    /// a fresh loopback connection per 500 calls costs well under a millisecond).
    private final class Connection: Sendable {
        static let callsPerConnection = 500
        let channel: any Channel
        let multiplexer: NIOHTTP2Handler.AsyncStreamMultiplexer<Void>
        private let usage = Mutex((started: 0, inFlight: 0))

        init(channel: any Channel, multiplexer: NIOHTTP2Handler.AsyncStreamMultiplexer<Void>) {
            self.channel = channel
            self.multiplexer = multiplexer
        }

        /// Takes a call slot; false when the connection has served its share.
        func begin() -> Bool {
            usage.withLock { usage in
                guard usage.started < Self.callsPerConnection else { return false }
                usage.started += 1
                usage.inFlight += 1
                return true
            }
        }

        /// Ends a call; closes the connection after the last call of a used-up one.
        func end() {
            let close = usage.withLock { usage -> Bool in
                usage.inFlight -= 1
                return usage.inFlight == 0 && usage.started >= Self.callsPerConnection
            }
            if close { channel.close(promise: nil) }
        }
    }

    private struct State {
        var members: [Member]
        var next = 0
        var closed = false
    }

    private let endpoints: [EtcdConfiguration.Endpoint]
    private let sslContext: NIOSSLContext?
    private let state: Mutex<State>
    private let group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton

    init(configuration: EtcdConfiguration) throws {
        endpoints = configuration.endpoints
        state = Mutex(State(members: Array(repeating: Member(), count: configuration.endpoints.count)))
        if configuration.endpoints.first?.secure == true {
            var tls = TLSConfiguration.makeClientConfiguration()
            tls.applicationProtocols = ["h2"]
            if let caFile = configuration.tls.caFile { tls.trustRoots = .file(caFile) }
            if let certFile = configuration.tls.certFile, let keyFile = configuration.tls.keyFile {
                tls.certificateChain = try NIOSSLCertificate.fromPEMFile(certFile).map { .certificate($0) }
                tls.privateKey = .privateKey(try NIOSSLPrivateKey(file: keyFile, format: .pem))
            }
            sslContext = try NIOSSLContext(configuration: tls)
        } else {
            sslContext = nil
        }
    }

    /// Closes every connection; later calls fail.
    func close() {
        let connections = state.withLock { state -> [Connection] in
            state.closed = true
            defer { for index in state.members.indices { state.members[index].connection = nil } }
            return state.members.compactMap(\.connection)
        }
        for connection in connections { connection.channel.close(promise: nil) }
    }

    /// One call of `method` (e.g. `etcdserverpb.KV/Range`) within `timeout`. Connection failures move on to the next
    /// member (nothing was sent yet); a failure after the request went out is reported, never retried, since a write
    /// may have been applied.
    func call<Request: SwiftProtobuf.Message, Response: SwiftProtobuf.Message>(
        _ method: String, _ request: Request, timeout: Duration
    ) async throws -> Response {
        let payload: [UInt8] = try request.serializedBytes()
        return try await withThrowingTaskGroup(of: Response?.self) { group in
            group.addTask {
                var lastError: (any Error)?
                for _ in 0..<self.endpoints.count {
                    let (index, connection): (Int, Connection)
                    do {
                        (index, connection) = try await self.pickConnection()
                    } catch {
                        lastError = error
                        continue
                    }
                    let stream: NIOAsyncChannel<HTTP2Frame.FramePayload, HTTP2Frame.FramePayload>
                    do {
                        stream = try await connection.multiplexer.openStream { channel in
                            channel.eventLoop.makeCompletedFuture {
                                try NIOAsyncChannel<HTTP2Frame.FramePayload, HTTP2Frame.FramePayload>(wrappingChannelSynchronously: channel)
                            }
                        }
                    } catch {
                        connection.end()
                        self.drop(index, connection)
                        lastError = error
                        continue
                    }
                    defer { connection.end() }
                    return try await self.exchange(stream, method: method, payload: payload, endpoint: self.endpoints[index]) as Response
                }
                throw RPCError(
                    code: .unavailable, message: "no etcd member is reachable: \(lastError.map { "\($0)" } ?? "none configured")")
            }
            group.addTask {
                try await Task.sleep(for: timeout)
                return nil
            }
            defer { group.cancelAll() }
            guard let first = try await group.next(), let response = first else {
                throw RPCError(code: .deadlineExceeded, message: "etcd did not answer \(method) within \(timeout)")
            }
            return response
        }
    }

    private func exchange<Response: SwiftProtobuf.Message>(
        _ stream: NIOAsyncChannel<HTTP2Frame.FramePayload, HTTP2Frame.FramePayload>, method: String, payload: [UInt8],
        endpoint: EtcdConfiguration.Endpoint
    ) async throws -> Response {
        try await stream.executeThenClose { inbound, outbound in
            let headers: HPACKHeaders = [
                ":method": "POST", ":scheme": endpoint.secure ? "https" : "http", ":path": "/" + method,
                ":authority": "\(endpoint.host):\(endpoint.port)", "content-type": "application/grpc", "te": "trailers",
            ]
            try await outbound.write(.headers(.init(headers: headers)))
            var message = ByteBuffer()
            message.reserveCapacity(payload.count + 5)
            message.writeInteger(UInt8(0))
            message.writeInteger(UInt32(payload.count))
            message.writeBytes(payload)
            try await outbound.write(.data(.init(data: .byteBuffer(message), endStream: true)))
            var body = ByteBuffer()
            var status: String?
            var statusMessage = ""
            var httpStatus: String?
            for try await frame in inbound {
                switch frame {
                case .headers(let received):
                    if let code = received.headers.first(name: ":status") { httpStatus = code }
                    if let code = received.headers.first(name: "grpc-status") {
                        status = code
                        statusMessage = (received.headers.first(name: "grpc-message") ?? "").removingPercentEncoding ?? ""
                    }
                case .data(let data):
                    if case .byteBuffer(var bytes) = data.data { body.writeBuffer(&bytes) }
                case .rstStream(let code):
                    throw RPCError(code: .unavailable, message: "etcd reset the stream (\(code))")
                default:
                    break
                }
            }
            guard let status else {
                throw RPCError(code: .unavailable, message: "etcd answered without a gRPC status (HTTP \(httpStatus ?? "?"))")
            }
            guard status == "0" else {
                throw RPCError(code: RPCError.Code(Status.Code(rawValue: Int(status) ?? 2) ?? .unknown) ?? .unknown, message: statusMessage)
            }
            guard body.readableBytes >= 5, body.readInteger(as: UInt8.self) == 0, let length = body.readInteger(as: UInt32.self),
                let bytes = body.readBytes(length: Int(length))
            else {
                throw RPCError(code: .internalError, message: "etcd's response to \(method) is not one uncompressed gRPC message")
            }
            return try Response(serializedBytes: bytes)
        }
    }

    /// The next member's open connection, connecting if needed; members that failed recently are skipped.
    private func pickConnection() async throws -> (Int, Connection) {
        let now = ContinuousClock.now
        let choice = try state.withLock { state -> (Int, Connection?) in
            if state.closed { throw RPCError(code: .unavailable, message: "etcd client is closed") }
            for _ in 0..<state.members.count {
                let index = state.next % state.members.count
                state.next &+= 1
                if let connection = state.members[index].connection, connection.channel.isActive {
                    if connection.begin() { return (index, connection) }
                    // Used up: the next call to this member connects afresh.
                    state.members[index].connection = nil
                    return (index, nil)
                }
                if let until = state.members[index].downUntil, until > now { continue }
                return (index, nil)
            }
            // Everyone is down: try the next one anyway rather than failing without a try.
            let index = state.next % state.members.count
            state.next &+= 1
            return (index, nil)
        }
        if let connection = choice.1 { return (choice.0, connection) }
        let index = choice.0
        do {
            let connection = try await connect(endpoints[index])
            let kept = state.withLock { state -> Connection in
                if let existing = state.members[index].connection, existing.channel.isActive, existing.begin() { return existing }
                state.members[index] = Member(connection: connection, downUntil: nil)
                _ = connection.begin()
                return connection
            }
            if kept !== connection { connection.channel.close(promise: nil) }
            return (index, kept)
        } catch {
            state.withLock { $0.members[index].downUntil = ContinuousClock.now + .milliseconds(500) }
            throw error
        }
    }

    private func drop(_ index: Int, _ connection: Connection) {
        state.withLock { state in
            if state.members[index].connection === connection { state.members[index].connection = nil }
        }
        connection.channel.close(promise: nil)
    }

    private func connect(_ endpoint: EtcdConfiguration.Endpoint) async throws -> Connection {
        let sslContext = self.sslContext
        return try await ClientBootstrap(group: group)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .connectTimeout(.seconds(2))
            .connect(host: endpoint.host, port: endpoint.port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    if let sslContext {
                        try channel.pipeline.syncOperations.addHandler(
                            NIOSSLClientHandler(
                                context: sslContext, serverHostname: endpoint.host.first?.isNumber == true ? nil : endpoint.host))
                    }
                    var http2 = NIOHTTP2Handler.Configuration()
                    http2.connection.targetWindowSize = 8 << 20
                    http2.stream.targetWindowSize = 4 << 20
                    http2.connection.initialSettings = [
                        HTTP2Setting(parameter: .enablePush, value: 0),
                        HTTP2Setting(parameter: .initialWindowSize, value: 4 << 20),
                        HTTP2Setting(parameter: .maxHeaderListSize, value: HPACKDecoder.defaultMaxHeaderListSize),
                    ]
                    // etcd never resets our streams (see above), but a misbehaving proxy must not close the
                    // connection under ordinary load either.
                    http2.stream.streamResetFrameRateLimit.maximumCount = 10_000
                    http2.stream.streamResetFrameRateLimit.windowLength = .seconds(10)
                    let multiplexer = try channel.pipeline.syncOperations.configureAsyncHTTP2Pipeline(
                        mode: .client, configuration: http2
                    ) { stream in stream.eventLoop.makeSucceededVoidFuture() }
                    return Connection(channel: channel, multiplexer: multiplexer)
                }
            }
    }
}
