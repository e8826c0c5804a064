import GRPCCore
import GRPCNIOTransportHTTP2Posix
public import Logging
public import ServiceLifecycle

/// Mutual TLS for the ADS port: the server's certificate, and the CA that every connecting Envoy's client
/// certificate must chain to (a connection without one fails the handshake).
public struct XDSServerTLS: Sendable {
    /// PEM certificate chain the server presents.
    public var certificateFile: String
    /// PEM private key of that certificate.
    public var privateKeyFile: String
    /// PEM CA bundle that client certificates are verified against.
    public var clientCAFile: String

    /// Creates the settings from PEM files.
    public init(certificateFile: String, privateKeyFile: String, clientCAFile: String) {
        self.certificateFile = certificateFile
        self.privateKeyFile = privateKeyFile
        self.clientCAFile = clientCAFile
    }

    var transportSecurity: HTTP2ServerTransport.Posix.TransportSecurity {
        .mTLS(
            certificateChain: [.file(path: certificateFile, format: .pem)],
            privateKey: .file(path: privateKeyFile, format: .pem)
        ) { tls in
            tls.trustRoots = .certificates([.file(path: clientCAFile, format: .pem)])
            // The CA is the stack's own; an Envoy's identity is its certificate, not a host name.
            tls.clientCertificateVerification = .noHostnameVerification
        }
    }
}

/// The ADS gRPC server (HTTP/2, plaintext or mutual TLS) as a `Service`: serves until graceful shutdown, then
/// ends every stream.
public struct XDSServer: Service {
    let host: String
    let port: Int
    let tls: XDSServerTLS?
    let snapshots: SnapshotStore
    let tracker: ProxyTracker
    let metrics: XDSMetrics?
    let logger: Logger
    let onListening: @Sendable (Int) async -> Void

    /// Creates the server; `port` 0 picks a free port, reported through `onListening`; with `tls`, only Envoys
    /// presenting a client certificate from its CA connect.
    public init(
        host: String, port: Int, tls: XDSServerTLS? = nil, snapshots: SnapshotStore, tracker: ProxyTracker,
        metrics: XDSMetrics? = nil, logger: Logger, onListening: @escaping @Sendable (Int) async -> Void = { _ in }
    ) {
        self.host = host
        self.port = port
        self.tls = tls
        self.snapshots = snapshots
        self.tracker = tracker
        self.metrics = metrics
        self.logger = logger
        self.onListening = onListening
    }

    public func run() async throws {
        let transport = HTTP2ServerTransport.Posix(
            address: host.contains(":") ? .ipv6(host: host, port: port) : .ipv4(host: host, port: port),
            transportSecurity: tls?.transportSecurity ?? .plaintext)
        let service = AggregatedDiscoveryService(snapshots: snapshots, tracker: tracker, metrics: metrics, logger: logger)
        let server = GRPCServer(transport: transport, services: [service])
        try await withThrowingDiscardingTaskGroup { group in
            group.addTask {
                try await withGracefulShutdownHandler {
                    try await server.serve()
                } onGracefulShutdown: {
                    server.beginGracefulShutdown()
                    // ADS streams never end on their own; ending the snapshot streams lets them return.
                    snapshots.finish()
                }
            }
            let address = try await transport.listeningAddress
            if let port = address.ipv4?.port ?? address.ipv6?.port {
                logger.info("xDS server listening", metadata: ["address": "\(host):\(port)", "tls": "\(tls == nil ? "none" : "mutual")"])
                await onListening(port)
            }
        }
    }
}
