import ApoxyAPI
import ApoxyClient
import ApoxyServer
import ApoxyStorage
import ApoxyTestSupport
import Foundation
import Logging
import NIOCore
import ServiceLifecycle
import Testing

/// A real API server on an ephemeral loopback port over a real SQLite file, with a client connected to it.
struct LiveServer: Sendable {
    let port: Int
    let client: HTTPConnection
    let databasePath: String

    static let collection = "/apis/core.apoxy.dev/v1alpha2/backends"

    /// Opens a watch on a connection of its own (Backends unless `collection` says otherwise); returns the status and
    /// the decoded events.
    func watch(
        _ query: String, collection: String = Self.collection, headers: [(String, String)] = []
    ) async throws -> (status: Int, events: WatchReader) {
        let connection = try await HTTPConnection.connect(host: "127.0.0.1", port: port)
        let (response, lines) = try await connection.streamLines("GET", collection + "?watch=true&" + query, headers: headers)
        return (response.status, WatchReader(connection: connection, iterator: lines.makeAsyncIterator()))
    }

    /// Sends a request with a JSON body (if given) and returns status, parsed JSON (if any) and the raw response.
    func send(
        _ method: String, _ path: String, json: JSONValue? = nil, raw: [UInt8]? = nil,
        contentType: String = "application/json", headers: [(String, String)] = []
    ) async throws -> (status: Int, body: JSONValue, response: HTTPClientResponse) {
        var allHeaders = headers
        let payload = raw ?? json?.serialized()
        if payload != nil { allHeaders.append(("Content-Type", contentType)) }
        let response = try await client.request(method, path, headers: allHeaders, body: payload)
        let body = (try? JSONValue.parse(response.body).value) ?? .null
        return (response.status, body, response)
    }

    /// Runs `body` against a fresh server; the database file survives for `reuse` callers.
    static func run<T: Sendable>(
        databasePath: String? = nil, _ body: @Sendable (LiveServer) async throws -> T
    ) async throws -> T {
        let path = databasePath ?? Self.temporaryDatabasePath()
        let storage = try SQLiteStorage(path: path)
        var logger = Logger(label: "test")
        logger.logLevel = .warning
        let (portStream, portContinuation) = AsyncStream.makeStream(of: Int.self)
        let app = try APIServer.application(
            storage: storage, configuration: APIServerConfiguration(host: "127.0.0.1", port: 0, bookmarkInterval: .milliseconds(200)),
            logger: logger,
            onListening: { port in portContinuation.yield(port) })
        return try await withCleanup {
            return try await withThrowingTaskGroup(of: Void.self) { group in
                let serviceGroup = ServiceGroup(configuration: .init(services: [app], logger: logger))
                group.addTask { try await serviceGroup.run() }
                var ports = portStream.makeAsyncIterator()
                guard let port = await ports.next() else { throw HTTPClientError(message: "server did not start") }
                let client = try await HTTPConnection.connect(host: "127.0.0.1", port: port)
                do {
                    let result = try await body(LiveServer(port: port, client: client, databasePath: path))
                    await client.close()
                    await serviceGroup.triggerGracefulShutdown()
                    try await group.waitForAll()
                    return result
                } catch {
                    await client.close()
                    await serviceGroup.triggerGracefulShutdown()
                    try? await group.waitForAll()
                    throw error
                }
            }
        } cleanup: {
            await storage.close()
        }
    }

    static func temporaryDatabasePath() -> String {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("apoxy-it-\(UUID().uuidString)")
        try? FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        return directory.appendingPathComponent("apoxy.sqlite").path
    }
}

/// A Backend document for requests.
func backend(
    _ name: String, endpoints: [JSONValue] = [["fqdn": "api.example.com"]], protocol p: String = "",
    labels: [String: String] = [:], extraSpec: [String: JSONValue] = [:], metadata: [String: JSONValue] = [:]
) -> JSONValue {
    var meta: [String: JSONValue] = ["name": .string(name)]
    if !labels.isEmpty { meta["labels"] = .object(labels.mapValues { .string($0) }) }
    for (k, v) in metadata { meta[k] = v }
    var spec: [String: JSONValue] = ["endpoints": .array(endpoints), "protocol": .string(p)]
    for (k, v) in extraSpec { spec[k] = v }
    return ["apiVersion": "core.apoxy.dev/v1alpha2", "kind": "Backend", "metadata": .object(meta), "spec": .object(spec)]
}

/// Whether a missing external tool must fail the test (CI) rather than skip it.
let requireTools =
    ProcessInfo.processInfo.environment["CI"] == "true"
    || ProcessInfo.processInfo.environment["APOXY_REQUIRE_TOOLS"] == "1"

/// Reads watch events one at a time.
final class WatchReader: @unchecked Sendable {
    // Used by one test task at a time.
    let connection: HTTPConnection
    var iterator: LineSequence<AsyncThrowingStream<NIOCore.ByteBuffer, any Error>>.AsyncIterator

    init(connection: HTTPConnection, iterator: LineSequence<AsyncThrowingStream<NIOCore.ByteBuffer, any Error>>.AsyncIterator) {
        self.connection = connection
        self.iterator = iterator
    }

    /// The next event (`type`, `object`), or nil when the stream ended.
    func next() async throws -> (type: String, object: JSONValue)? {
        while let line = try await iterator.next() {
            if line.isEmpty { continue }
            let event = try JSONValue.parse(line)
            return (event["type"]?.stringValue ?? "", event["object"] ?? .null)
        }
        return nil
    }

    /// The next event that is not a BOOKMARK.
    func nextChange() async throws -> (type: String, object: JSONValue)? {
        while let event = try await next() {
            if event.type != "BOOKMARK" { return event }
        }
        return nil
    }

    func close() async { await connection.close() }
}
