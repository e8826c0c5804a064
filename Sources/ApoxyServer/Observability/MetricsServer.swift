public import ApoxyMetrics
import HTTPTypes
public import Hummingbird
public import Logging
import NIOCore

/// A plain-HTTP `/metrics` endpoint for processes without an API server (`apoxy backplane --metrics-listen`).
public enum MetricsServer {
    /// An application serving `registry` at `/metrics` on `host:port` (0 picks a free port, given to `onListening`).
    public static func application(
        registry: MetricsRegistry, host: String, port: Int, logger: Logger,
        onListening: @escaping @Sendable (Int) async -> Void = { _ in }
    ) -> some ApplicationProtocol {
        let router = Router()
        router.get("/metrics") { _, _ in
            let body = await registry.exposition()
            return Response(
                status: .ok, headers: [.contentType: MetricsRegistry.contentType], body: ResponseBody(byteBuffer: ByteBuffer(bytes: body)))
        }
        return Application(
            router: router, configuration: ApplicationConfiguration(address: .hostname(host, port: port), serverName: nil),
            onServerRunning: { channel in await onListening(channel.localAddress?.port ?? port) }, logger: logger)
    }
}
