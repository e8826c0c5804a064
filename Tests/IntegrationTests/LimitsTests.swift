import ApoxyAPI
import ApoxyClient
import ApoxyTestSupport
import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// A plain TCP connection for sending partial requests; its blocking reads run on a dispatch queue, never on a
/// Swift concurrency thread, and each read times out.
final class RawConnection: @unchecked Sendable {
    let fd: Int32

    init(port: Int) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = UInt16(port).bigEndian
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { throw TestSetupError(message: "connect failed") }
    }

    func send(_ text: String) {
        _ = text.utf8CString.withUnsafeBufferPointer { Glibc.send(fd, $0.baseAddress, $0.count - 1, Int32(MSG_NOSIGNAL)) }
    }

    /// Everything the server sends until it closes the connection or `timeout` passes; `closed` tells which.
    func readUntilClosed(timeout: Duration) async -> (text: String, closed: Bool) {
        let fd = self.fd
        return await withCheckedContinuation { continuation in
            DispatchQueue.global().async {
                let deadline = ContinuousClock.now + timeout
                var received: [UInt8] = []
                var buffer = [UInt8](repeating: 0, count: 4096)
                while ContinuousClock.now < deadline {
                    var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
                    if poll(&poller, 1, 50) <= 0 { continue }
                    let count = recv(fd, &buffer, buffer.count, 0)
                    if count <= 0 {
                        continuation.resume(returning: (String(decoding: received, as: UTF8.self), true))
                        return
                    }
                    received += buffer[0..<count]
                }
                continuation.resume(returning: (String(decoding: received, as: UTF8.self), false))
            }
        }
    }

    deinit { close(fd) }
}

/// kube-apiserver's limits on a real `apoxy server`: in-flight requests, watches, request timeout, and the connection
/// timeouts that keep slow clients from holding the server.
@Suite("Server limits", .serialized, .timeLimit(.minutes(2)))
struct LimitsTests {
    static func server(_ arguments: [String]) async throws -> ServerProcess {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("apoxy-limits-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        return try await ServerProcess.start(dataDir: directory.appendingPathComponent("data").path, arguments: arguments)
    }

    /// A POST whose body never finishes: in flight until the server gives up on it.
    static func stalledCreate(_ port: Int) throws -> RawConnection {
        let raw = try RawConnection(port: port)
        raw.send("POST \(LiveServer.collection) HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 500\r\n\r\n{\"api")
        return raw
    }

    @Test func mutatingRequestsPastTheLimitAre429AndTimeoutsAre504() async throws {
        let server = try await Self.server(["--max-mutating-requests-inflight", "1", "--request-timeout", "2s"])
        try await withCleanup {
            let stalled = try Self.stalledCreate(server.port)
            try await waitForMetrics(port: server.port, "the stalled create in flight") {
                (metricValue("apiserver_current_inflight_requests", labels: [#"request_kind="mutating""#], in: $0) ?? 0) >= 1
            }
            let client = try await HTTPConnection.connect(host: "127.0.0.1", port: server.port)
            let refused = try await client.request(
                "POST", LiveServer.collection, headers: [("Content-Type", "application/json")], body: backend("second").serialized())
            #expect(refused.status == 429)
            #expect(refused.header("Retry-After") == "1")
            let status = try JSONValue.parse(refused.body).value
            #expect(status["reason"] == "TooManyRequests")
            #expect(status["message"] == "Too many requests, please try again later.")
            // Reads have their own limit.
            #expect(try await client.request("GET", LiveServer.collection).status == 200)
            // The stalled request is cancelled at the request timeout with kube's 504.
            let started = ContinuousClock.now
            let answer = await stalled.readUntilClosed(timeout: .seconds(10))
            #expect(answer.text.hasPrefix("HTTP/1.1 504"), "\(answer.text)")
            #expect(answer.text.contains("\"reason\":\"Timeout\""))
            #expect(ContinuousClock.now - started < .seconds(5))
            // Once it is gone, writes are admitted again.
            let admitted = try await client.request(
                "POST", LiveServer.collection, headers: [("Content-Type", "application/json")], body: backend("third").serialized())
            #expect(admitted.status == 201)
            await client.close()
        } cleanup: {
            await server.stop()
        }
    }

    @Test func watchesAreBoundedToo() async throws {
        let server = try await Self.server(["--max-watches", "2"])
        try await withCleanup {
            var watches: [HTTPConnection] = []
            for _ in 0..<2 {
                let connection = try await HTTPConnection.connect(host: "127.0.0.1", port: server.port)
                let (head, _) = try await connection.streamLines("GET", LiveServer.collection + "?watch=true")
                #expect(head.status == 200)
                watches.append(connection)
            }
            let client = try await HTTPConnection.connect(host: "127.0.0.1", port: server.port)
            #expect(try await client.request("GET", LiveServer.collection + "?watch=true").status == 429)
            #expect(try await client.request("GET", LiveServer.collection).status == 200, "lists are not watches")
            await watches.removeFirst().close()
            // The closed watch's slot comes back once the server notices.
            var status = 0
            for _ in 0..<50 {
                let probe = try await HTTPConnection.connect(host: "127.0.0.1", port: server.port)
                let (head, _) = try await probe.streamLines("GET", LiveServer.collection + "?watch=true")
                status = head.status
                await probe.close()
                if status == 200 { break }
                try await Task.sleep(for: .milliseconds(100))
            }
            #expect(status == 200)
            for watch in watches { await watch.close() }
            await client.close()
        } cleanup: {
            await server.stop()
        }
    }

    @Test func slowHeadersAreCutOffAndIdleConnectionsClosed() async throws {
        let server = try await Self.server(["--read-header-timeout", "1s", "--idle-timeout", "3s"])
        try await withCleanup {
            // Half the headers, then nothing: closed at the header timeout.
            let slow = try RawConnection(port: server.port)
            slow.send("GET /version HTTP/1.1\r\nHost: x\r\n")
            let started = ContinuousClock.now
            let cut = await slow.readUntilClosed(timeout: .seconds(5))
            #expect(cut.closed)
            #expect(ContinuousClock.now - started < .seconds(2.5))
            // A connection that sends nothing is idle, not slow: it lives past the header timeout, until the idle one.
            let idle = try RawConnection(port: server.port)
            let early = await idle.readUntilClosed(timeout: .milliseconds(1_800))
            #expect(!early.closed, "an idle connection outlived the header timeout")
            let late = await idle.readUntilClosed(timeout: .seconds(5))
            #expect(late.closed, "the idle timeout closed it")
            // A keep-alive connection serves request after request meanwhile.
            let client = try await HTTPConnection.connect(host: "127.0.0.1", port: server.port)
            for _ in 0..<3 {
                #expect(try await client.request("GET", "/version").status == 200)
                try await Task.sleep(for: .milliseconds(700))
            }
            await client.close()
        } cleanup: {
            await server.stop()
        }
    }

    @Test func oversizedHeadersAreRefused() async throws {
        let server = try await Self.server(["--max-header-bytes", "4096"])
        try await withCleanup {
            let raw = try RawConnection(port: server.port)
            raw.send("GET /version HTTP/1.1\r\nHost: x\r\nX-Big: \(String(repeating: "a", count: 8192))\r\n\r\n")
            let answer = await raw.readUntilClosed(timeout: .seconds(5))
            #expect(answer.closed)
            #expect(!answer.text.contains("200 OK"))
            let client = try await HTTPConnection.connect(host: "127.0.0.1", port: server.port)
            #expect(try await client.request("GET", "/version", headers: [("X-Small", "ok")]).status == 200)
            await client.close()
        } cleanup: {
            await server.stop()
        }
    }
}
