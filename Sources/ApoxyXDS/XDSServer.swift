import GRPCCore
import GRPCNIOTransportHTTP2Posix
import Logging
import ServiceLifecycle

/// The ADS gRPC server (plaintext HTTP/2) as a `Service`: serves until graceful shutdown, then ends every stream.
public struct XDSServer: Service {
    let host: String
    let port: Int
    let snapshots: SnapshotStore
    let tracker: ProxyTracker
    let logger: Logger
    let onListening: @Sendable (Int) async -> Void

    /// Creates the server; `port` 0 picks a free port, reported through `onListening`.
    public init(
        host: String, port: Int, snapshots: SnapshotStore, tracker: ProxyTracker, logger: Logger,
        onListening: @escaping @Sendable (Int) async -> Void = { _ in }
    ) {
        self.host = host
        self.port = port
        self.snapshots = snapshots
        self.tracker = tracker
        self.logger = logger
        self.onListening = onListening
    }

    public func run() async throws {
        let transport = HTTP2ServerTransport.Posix(
            address: host.contains(":") ? .ipv6(host: host, port: port) : .ipv4(host: host, port: port),
            transportSecurity: .plaintext)
        let service = AggregatedDiscoveryService(snapshots: snapshots, tracker: tracker, logger: logger)
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
                logger.info("xDS server listening", metadata: ["address": "\(host):\(port)"])
                await onListening(port)
            }
        }
    }
}
