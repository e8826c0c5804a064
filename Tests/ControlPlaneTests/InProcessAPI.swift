import ApoxyAPI
import ApoxyClient
import ApoxyMetrics
import ApoxyServer
import ApoxyStorage
import ApoxyTestSupport
import Logging
import ServiceLifecycle

/// A real API server in this process (memory storage, an ephemeral loopback port), for control-plane tests that need
/// the API but no child process.
enum InProcessAPI {
    static let logger: Logger = {
        var logger = Logger(label: "control-plane-test")
        logger.logLevel = .warning
        return logger
    }()

    /// Runs `body` with the server's port and a client connected to it; stops the server afterwards.
    static func run(_ body: @Sendable (Int, HTTPConnection) async throws -> Void) async throws {
        let (ports, port) = AsyncStream.makeStream(of: Int.self)
        var configuration = APIServerConfiguration(host: "127.0.0.1", port: 0, bookmarkInterval: .milliseconds(200))
        configuration.accessLog = false
        // /metrics, so a test can count the requests the control plane made.
        configuration.metrics = MetricsRegistry()
        let app = try APIServer.application(
            storage: MemoryStorage(), configuration: configuration, logger: logger, onListening: { port.yield($0) })
        let serviceGroup = ServiceGroup(configuration: .init(services: [app], logger: logger))
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await serviceGroup.run() }
            var iterator = ports.makeAsyncIterator()
            guard let port = await iterator.next() else { throw HTTPClientError(message: "the server did not start") }
            let client = try await HTTPConnection.connect(host: "127.0.0.1", port: port)
            do {
                try await body(port, client)
            } catch {
                await client.close()
                await serviceGroup.triggerGracefulShutdown()
                throw error
            }
            await client.close()
            await serviceGroup.triggerGracefulShutdown()
        }
    }

    /// Sends `body` as JSON (or a merge patch for PATCH); returns the response.
    @discardableResult
    static func send(
        _ client: HTTPConnection, _ method: String, _ path: String, _ body: JSONValue? = nil
    ) async throws
        -> HTTPClientResponse
    {
        let type = method == "PATCH" ? "application/merge-patch+json" : "application/json"
        return try await client.request(method, path, headers: [("Content-Type", type)], body: body?.serialized())
    }

    static func backend(_ name: String, protocol p: String = "") -> JSONValue {
        [
            "apiVersion": "core.apoxy.dev/v1alpha2", "kind": "Backend", "metadata": ["name": .string(name)],
            "spec": ["protocol": .string(p), "endpoints": [["ip": "10.0.0.1"]]],
        ]
    }

    /// The sum of `apiserver_request_total` over the samples whose labels include every one of `labels`.
    static func requests(_ client: HTTPConnection, _ labels: [String]) async throws -> Double {
        metricSum("apiserver_request_total", labels: labels, in: try await client.request("GET", "/metrics").text)
    }
}
