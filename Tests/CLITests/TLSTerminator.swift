import ApoxyTestSupport
import Foundation
import NIOCore
import NIOPosix
import NIOSSL
import Synchronization

/// A TLS terminator on loopback for tests: accepts TLS (optionally requiring a client certificate signed by a
/// given CA), and pipes the decrypted bytes to the plain `apoxy server`. It also notes each bearer token it sees
/// in a request, so a test can check the client sent it.
final class TLSTerminator: Sendable {
    let channel: any Channel
    let port: Int
    let log: TokenLog

    private init(channel: any Channel, port: Int, log: TokenLog) {
        self.channel = channel
        self.port = port
        self.log = log
    }

    /// The bearer tokens seen so far.
    var seenTokens: [String] { log.tokens.withLock { $0 } }

    /// Starts listening on a free loopback port.
    static func start(
        certificatePEM: String, keyPEM: String, clientCA: String?, backendPort: Int
    ) async throws -> TLSTerminator {
        var configuration = TLSConfiguration.makeServerConfiguration(
            certificateChain: try NIOSSLCertificate.fromPEMBytes(Array(certificatePEM.utf8)).map { .certificate($0) },
            privateKey: .privateKey(try NIOSSLPrivateKey(bytes: Array(keyPEM.utf8), format: .pem)))
        if let clientCA {
            configuration.certificateVerification = .noHostnameVerification
            configuration.trustRoots = .certificates(try NIOSSLCertificate.fromPEMBytes(Array(clientCA.utf8)))
        }
        let context = try NIOSSLContext(configuration: configuration)
        let recorder = TokenLog()
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            // Nothing is read until the backend connection and the glue are in place.
            .childChannelOption(.autoRead, value: false)
            .childChannelInitializer { child in
                child.eventLoop.makeCompletedFuture {
                    try child.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: context))
                    try child.pipeline.syncOperations.addHandler(TokenRecorder(log: recorder))
                }.flatMap {
                    ClientBootstrap(group: child.eventLoop).connect(host: "127.0.0.1", port: backendPort)
                }.flatMap { backend in
                    let (front, back) = GlueHandler.matchedPair()
                    return child.eventLoop.makeCompletedFuture {
                        try child.pipeline.syncOperations.addHandler(front)
                        try backend.pipeline.syncOperations.addHandler(back)
                    }.flatMap { child.setOption(.autoRead, value: true) }
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        return TLSTerminator(channel: channel, port: channel.localAddress?.port ?? 0, log: recorder)
    }

    /// Stops accepting connections.
    func stop() async {
        try? await channel.close()
    }
}

/// Where the recorders put the tokens they see.
final class TokenLog: Sendable {
    let tokens = Mutex<[String]>([])
}

/// Notes `Authorization: Bearer` values in the decrypted request bytes and passes everything on.
final class TokenRecorder: ChannelInboundHandler, Sendable {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    let log: TokenLog

    init(log: TokenLog) { self.log = log }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let text = String(decoding: unwrapInboundIn(data).readableBytesView, as: UTF8.self)
        for line in text.split(separator: "\r\n") where line.lowercased().hasPrefix("authorization: bearer ") {
            let token = String(line.dropFirst("authorization: bearer ".count))
            log.tokens.withLock { $0.append(token) }
        }
        context.fireChannelRead(data)
    }
}

/// Half of a pair of handlers that copy bytes between two channels on the same event loop (NIO's proxy example).
final class GlueHandler: ChannelDuplexHandler, @unchecked Sendable {
    typealias InboundIn = NIOAny
    typealias OutboundIn = NIOAny
    typealias OutboundOut = NIOAny

    private var partner: GlueHandler?
    private var context: ChannelHandlerContext?

    static func matchedPair() -> (GlueHandler, GlueHandler) {
        let first = GlueHandler()
        let second = GlueHandler()
        first.partner = second
        second.partner = first
        return (first, second)
    }

    func handlerAdded(context: ChannelHandlerContext) { self.context = context }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
        partner = nil
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) { partner?.context?.write(data, promise: nil) }

    func channelReadComplete(context: ChannelHandlerContext) { partner?.context?.flush() }

    func channelInactive(context: ChannelHandlerContext) { partner?.context?.close(promise: nil) }

    func errorCaught(context: ChannelHandlerContext, error: any Error) { context.close(promise: nil) }
}
