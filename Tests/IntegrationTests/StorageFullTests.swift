import ApoxyAPI
import ApoxyClient
import ApoxyTestSupport
import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// SQLite on a real, tiny filesystem (a 2 MiB tmpfs, mounted by the test: it runs as root, as CI does) that fills up:
/// writes answer a Status, nothing acknowledged is lost, reads and watches go on, and writes resume when space returns.
@Suite("Storage full", .serialized, .timeLimit(.minutes(2)), .enabled(if: getuid() == 0 || requireTools, "needs root to mount a tmpfs"))
struct StorageFullTests {
    static func mount(_ arguments: [String]) async throws {
        let result = try await runProcess("/bin/mount", arguments, timeout: .seconds(10))
        guard result.status == 0 else { throw TestSetupError(message: "mount \(arguments): \(result.stderr)") }
    }

    @Test func aFullDiskFailsWritesWithAStatusAndRecovers() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("apoxy-full-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try await Self.mount(["-t", "tmpfs", "-o", "size=2m", "tmpfs", directory.path])
        defer {
            _ = try? Process.run(URL(fileURLWithPath: "/bin/umount"), arguments: ["-l", directory.path]).waitUntilExit()
            try? FileManager.default.removeItem(at: directory)
        }
        let logURL = FileManager.default.temporaryDirectory.appendingPathComponent("apoxy-full-\(UUID().uuidString).log")
        let server = try await ServerProcess.start(
            arguments: ["--data-dir", directory.appendingPathComponent("data").path], logURL: logURL)
        let client = try await HTTPConnection.connect(host: "127.0.0.1", port: server.port)
        let watchConnection = try await HTTPConnection.connect(host: "127.0.0.1", port: server.port)
        let (head, lines) = try await watchConnection.streamLines("GET", LiveServer.collection + "?watch=true&resourceVersion=0")
        #expect(head.status == 200)
        let watch = WatchReader(connection: watchConnection, iterator: lines.makeAsyncIterator())
        let padding = String(repeating: "x", count: 100_000)
        var acknowledged: [String] = []
        var failure: (status: Int, body: JSONValue)?
        for i in 0..<200 {
            let object = backend("fill-\(i)", metadata: ["annotations": ["pad": .string(padding)]])
            let response = try await client.request(
                "POST", LiveServer.collection, headers: [("Content-Type", "application/json")], body: object.serialized())
            if response.status == 201 {
                acknowledged.append("fill-\(i)")
            } else {
                failure = (response.status, (try? JSONValue.parse(response.body).value) ?? .null)
                break
            }
        }
        let refused = try #require(failure, "the 2 MiB filesystem never filled")
        print(
            "storage full: \(acknowledged.count) writes acknowledged, then \(refused.status): \(refused.body["message"]?.stringValue ?? "")"
        )
        #expect(refused.status == 503 || refused.status == 500, "\(refused)")
        #expect(refused.body["kind"] == "Status")
        #expect(refused.body["message"]?.stringValue?.isEmpty == false)
        // Reads go on while the disk is full, and show every acknowledged write.
        let list = try JSONValue.parse(try await client.request("GET", LiveServer.collection).body).value
        let names = Set(list["items"]?.arrayValue?.compactMap { $0["metadata"]?["name"]?.stringValue } ?? [])
        #expect(names == Set(acknowledged))
        #expect(try await client.request("GET", LiveServer.collection + "/fill-0").status == 200)
        // Space returns: writes resume without a restart, and the open watch sees them.
        try await Self.mount(["-o", "remount,size=64m", directory.path])
        var resumed = 0
        for _ in 0..<50 {
            let response = try await client.request(
                "POST", LiveServer.collection, headers: [("Content-Type", "application/json")], body: backend("after-full").serialized())
            resumed = response.status
            if resumed == 201 { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect(resumed == 201)
        var sawAfter = false
        while let event = try await watch.nextChange() {
            if event.object["metadata"]?["name"] == "after-full" {
                sawAfter = true
                break
            }
        }
        #expect(sawAfter, "the watch that was open while the disk was full goes on")
        await watch.close()
        await client.close()
        #expect(await server.stop() == 0)
        // Everything acknowledged is on disk.
        let restarted = try await ServerProcess.start(
            arguments: ["--data-dir", directory.appendingPathComponent("data").path], logURL: logURL)
        let again = try await HTTPConnection.connect(host: "127.0.0.1", port: restarted.port)
        let after = try JSONValue.parse(try await again.request("GET", LiveServer.collection).body).value
        let stored = Set(after["items"]?.arrayValue?.compactMap { $0["metadata"]?["name"]?.stringValue } ?? [])
        #expect(stored == Set(acknowledged + ["after-full"]))
        await again.close()
        await restarted.stop()
    }
}
