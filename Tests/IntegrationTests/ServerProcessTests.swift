import ApoxyAPI
import ApoxyClient
import ApoxyProcess
import ApoxyTestSupport
import Foundation
import Synchronization
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

    /// kill -9 in the middle of a stream of writes: every acknowledged write is there after the restart, and a watch
    /// resumed from the last resourceVersion it saw before the kill gets every later change exactly once, from the
    /// persisted change log (the restarted server's watch cache starts later than that).
    @Test func kill9MidStreamLosesNothingAndAWatchResumesAfterTheRestart() async throws {
        let dataDir = try Self.temporaryDataDir()
        let server = try await ServerProcess.start(dataDir: dataDir)
        let port = server.port
        let watchConnection = try await HTTPConnection.connect(host: "127.0.0.1", port: port)
        let (head, lines) = try await watchConnection.streamLines("GET", LiveServer.collection + "?watch=true&resourceVersion=0")
        #expect(head.status == 200)
        let watch = WatchReader(connection: watchConnection, iterator: lines.makeAsyncIterator())
        // Writers run until the kill; the watcher reads what it can meanwhile.
        let created = AcknowledgedCount()
        let acknowledged = try await withThrowingTaskGroup(of: [String].self) { group in
            for worker in 0..<4 {
                group.addTask {
                    let client = try await HTTPConnection.connect(host: "127.0.0.1", port: port)
                    var names: [String] = []
                    for i in 0..<1_000 {
                        let name = "mid-\(worker)-\(i)"
                        guard let response = try? await Self.create(client, name) else { break }
                        if response.status == 201 {
                            names.append(name)
                            created.value.add(1, ordering: .relaxed)
                        }
                    }
                    await client.close()
                    return names
                }
            }
            // Killed mid-stream: once the writers have had a few dozen creates acknowledged (not after a fixed time,
            // which a loaded machine may spend starting up).
            let deadline = ContinuousClock.now + .seconds(20)
            while created.value.load(ordering: .relaxed) < 40, ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(5))
            }
            await server.stop(signal: SIGKILL)
            return try await group.reduce(into: [String]()) { $0 += $1 }
        }
        var seenBeforeKill: [String: Int64] = [:]
        var lastSeen: Int64 = 0
        while let event = try? await watch.nextChange() {
            guard let name = event.object["metadata"]?["name"]?.stringValue,
                let version = Int64(event.object["metadata"]?["resourceVersion"]?.stringValue ?? "")
            else { continue }
            seenBeforeKill[name] = version
            lastSeen = max(lastSeen, version)
        }
        await watch.close()
        #expect(acknowledged.count > 20, "the writers got going before the kill")

        let restarted = try await ServerProcess.start(dataDir: dataDir)
        let client = try await HTTPConnection.connect(host: "127.0.0.1", port: restarted.port)
        let list = try JSONValue.parse(try await client.request("GET", LiveServer.collection).body).value
        let stored = Set(list["items"]?.arrayValue?.compactMap { $0["metadata"]?["name"]?.stringValue } ?? [])
        #expect(Set(acknowledged).isSubset(of: stored), "every acknowledged write survives kill -9")
        let finalVersion = Int64(list["metadata"]?["resourceVersion"]?.stringValue ?? "") ?? 0
        // Resume from the last revision seen before the kill: exactly the changes after it, in order, once each.
        let resumedConnection = try await HTTPConnection.connect(host: "127.0.0.1", port: restarted.port)
        let (resumedHead, resumedLines) = try await resumedConnection.streamLines(
            "GET", LiveServer.collection + "?watch=true&resourceVersion=\(lastSeen)")
        #expect(resumedHead.status == 200)
        let resumed = WatchReader(connection: resumedConnection, iterator: resumedLines.makeAsyncIterator())
        var versions: [Int64] = []
        var names: [String] = []
        while versions.last ?? lastSeen < finalVersion, let event = try await resumed.next() {
            if event.type == "ERROR" {
                Issue.record("resumed watch failed: \(event.object)")
                break
            }
            guard event.type == "ADDED", let version = Int64(event.object["metadata"]?["resourceVersion"]?.stringValue ?? "") else {
                continue
            }
            versions.append(version)
            names.append(event.object["metadata"]?["name"]?.stringValue ?? "")
        }
        #expect(versions == Array((lastSeen + 1)...max(lastSeen + 1, finalVersion)).filter { _ in finalVersion > lastSeen })
        #expect(Set(names).isDisjoint(with: seenBeforeKill.keys), "nothing seen before the kill comes again")
        #expect(Set(names).union(seenBeforeKill.keys) == stored, "before and after the restart, the watch saw every stored object")
        print(
            "kill -9 mid-stream: \(acknowledged.count) acknowledged, \(stored.count) stored, watch saw \(seenBeforeKill.count) before the kill and resumed from \(lastSeen) with \(versions.count) more"
        )
        await resumed.close()
        await client.close()
        await restarted.stop()
    }

    @Test func watchesOfClientsThatLeftAreReleased() async throws {
        let dataDir = try Self.temporaryDataDir()
        let server = try await ServerProcess.start(dataDir: dataDir)
        func openDescriptors() -> Int {
            (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(server.child.processIdentifier)/fd").count) ?? -1
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
        // Every host:port flag of every command is parsed by one type, with the same usage error (exit code 2).
        let cases: [[String]] = [
            ["server", "--listen", "nonsense"], ["server", "--listen", "127.0.0.1:65536"], ["dev", "--api-listen", ":80"],
            ["dev", "--xds-listen", "[::1]"], ["backplane", "--proxy-listen", "host:port"], ["backplane", "--metrics-listen", "9090"],
            ["backplane", "--dns-resolver", "1.1.1.1"],
        ]
        for arguments in cases {
            let result = try await runProcess(apoxyBinary, arguments)
            #expect(result.status == 2, "\(arguments): \(result.stderr)")
            #expect(
                result.stderr.contains("The value '\(arguments[2])' is invalid for '\(arguments[1]) <"), "\(arguments): \(result.stderr)")
        }
        let ttl = try await runProcess(apoxyBinary, ["dev", "--event-ttl", "0s"])
        #expect(ttl.status == 2 && ttl.stderr.contains("--event-ttl must be more than 0"), "\(ttl.stderr)")
    }
}

/// Creates acknowledged so far, counted by every writer task.
private final class AcknowledgedCount: Sendable {
    let value = Atomic<Int>(0)
}
