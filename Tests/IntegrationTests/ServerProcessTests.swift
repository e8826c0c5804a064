import ApoxyTestSupport
import ApoxyAPI
import ApoxyClient
import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// The real `apoxy` binary: restarts on the same data, survives `kill -9`, shuts down cleanly on SIGTERM.
@Suite("apoxy server process", .serialized)
struct ServerProcessTests {
    static func temporaryDataDir() throws -> String {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("apoxy-proc-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        return directory.appendingPathComponent("data").path
    }

    static func create(_ client: HTTPConnection, _ name: String) async throws -> HTTPClientResponse {
        try await client.request(
            "POST", LiveServer.collection, headers: [("Content-Type", "application/json")],
            body: backend(name, endpoints: [["ip": "10.1.0.1"]], protocol: "h2c").serialized())
    }

    @Test func dataSurvivesARestartAndSIGTERMIsGraceful() async throws {
        let dataDir = try Self.temporaryDataDir()
        let first = try await ServerProcess.start(dataDir: dataDir)
        let client = try await HTTPConnection.connect(host: "127.0.0.1", port: first.port)
        var created: [JSONValue] = []
        for i in 0..<5 {
            let response = try await Self.create(client, "keep-\(i)")
            #expect(response.status == 201)
            created.append(try JSONValue.parse(response.body).value)
        }
        let patched = try await client.request(
            "PATCH", LiveServer.collection + "/keep-0", headers: [("Content-Type", "application/merge-patch+json")],
            body: Array(#"{"spec":{"protocol":"tls"}}"#.utf8))
        #expect(patched.status == 200)
        await client.close()
        let status = await first.stop(signal: SIGTERM)
        #expect(status == 0, "SIGTERM must end the server cleanly; log: \(first.log)")

        let second = try await ServerProcess.start(dataDir: dataDir)
        let again = try await HTTPConnection.connect(host: "127.0.0.1", port: second.port)
        let list = try JSONValue.parse(try await again.request("GET", LiveServer.collection).body).value
        let names = list["items"]?.arrayValue?.compactMap { $0["metadata"]?["name"]?.stringValue }
        #expect(names == (0..<5).map { "keep-\($0)" })
        #expect(list["items"]?[0]?["spec"]?["protocol"] == "tls")
        #expect(list["items"]?[1]?["metadata"]?["uid"] == created[1]["metadata"]?["uid"])
        #expect(list["metadata"]?["resourceVersion"] == "6")
        // Revisions continue after a restart.
        let next = try JSONValue.parse(try await Self.create(again, "after-restart").body).value
        #expect(next["metadata"]?["resourceVersion"] == "7")
        await again.close()
        await second.stop()
    }

    @Test func acknowledgedWritesSurviveKill9() async throws {
        let dataDir = try Self.temporaryDataDir()
        let server = try await ServerProcess.start(dataDir: dataDir)
        // Several connections writing at once, so commits are shared; every 201 must be durable.
        let port = server.port
        let acknowledged = try await withThrowingTaskGroup(of: [String].self) { group in
            for worker in 0..<4 {
                group.addTask {
                    let client = try await HTTPConnection.connect(host: "127.0.0.1", port: port)
                    var names: [String] = []
                    for i in 0..<25 {
                        let name = "k9-\(worker)-\(i)"
                        if try await Self.create(client, name).status == 201 { names.append(name) }
                    }
                    await client.close()
                    return names
                }
            }
            return try await group.reduce(into: [String]()) { $0 += $1 }
        }
        #expect(acknowledged.count == 100)
        await server.stop(signal: SIGKILL)

        let restarted = try await ServerProcess.start(dataDir: dataDir)
        let client = try await HTTPConnection.connect(host: "127.0.0.1", port: restarted.port)
        let list = try JSONValue.parse(try await client.request("GET", LiveServer.collection).body).value
        let names = Set(list["items"]?.arrayValue?.compactMap { $0["metadata"]?["name"]?.stringValue } ?? [])
        #expect(names == Set(acknowledged))
        await client.close()
        await restarted.stop()
    }

    @Test func watchesOfClientsThatLeftAreReleased() async throws {
        let dataDir = try Self.temporaryDataDir()
        let server = try await ServerProcess.start(dataDir: dataDir)
        func openDescriptors() -> Int {
            (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(server.process.processIdentifier)/fd").count) ?? -1
        }
        // The start-up readiness probe's connection may still be closing: take the settled count.
        var before = openDescriptors()
        for _ in 0..<5 {
            try await Task.sleep(for: .milliseconds(100))
            before = min(before, openDescriptors())
        }
        var watchers: [HTTPConnection] = []
        for _ in 0..<20 {
            let connection = try await HTTPConnection.connect(host: "127.0.0.1", port: server.port)
            // A selector nothing matches: the server never has a reason to write to these watches.
            let (response, _) = try await connection.streamLines(
                "GET", LiveServer.collection + "?watch=true&fieldSelector=metadata.name%3Dnobody")
            #expect(response.status == 200)
            watchers.append(connection)
        }
        #expect(openDescriptors() >= before + 20)
        for connection in watchers { await connection.close() }
        var after = openDescriptors()
        for _ in 0..<50 where after >= before + 5 {
            try await Task.sleep(for: .milliseconds(100))
            after = openDescriptors()
        }
        #expect(after < before + 5, "the server must notice closed watch connections (before \(before), after \(after))")
        await server.stop()
    }

    @Test func badFlagsAreRejectedWithAMessage() async throws {
        let result = try await runProcess(apoxyBinary, ["server", "--listen", "nonsense"])
        #expect(result.status != 0)
        #expect(result.stderr.contains("--listen must be host:port"))
    }
}
