import ApoxyClient
import ApoxyProcess
import Foundation
import NIOSSL
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// The `apoxy server` child process under test.
final class ServerRunner: Sendable {
    let child: ChildProcess
    let port: Int

    var pid: Int32 { child.processIdentifier }

    private init(child: ChildProcess, port: Int) {
        self.child = child
        self.port = port
    }

    /// Runs `body` with `apoxy server` started as `start` does, and stops the server afterwards, whatever happens.
    static func with<T>(
        binary: String, logPath: String, arguments: [String], tls: TLSConfiguration? = nil, _ body: (ServerRunner) async throws -> T
    ) async throws -> T {
        let runner = try await start(binary: binary, logPath: logPath, arguments: arguments, tls: tls)
        return try await withCleanup {
            try await body(runner)
        } cleanup: {
            await runner.stop()
        }
    }

    /// Starts `apoxy server` with `arguments` (the storage flags) on a port the kernel picks (`--listen 127.0.0.1:0`,
    /// read back from its startup log line, as the tests' `ServerProcess` does): a port chosen at random here could
    /// be taken, even by a socket of an earlier run still in TIME_WAIT, and the readiness probe could then reach some
    /// other server. Returns once `/readyz` (which checks storage) answers 200.
    static func start(
        binary: String, logPath: String, arguments: [String], tls: TLSConfiguration? = nil, timeout: Duration = .seconds(30)
    ) async throws -> ServerRunner {
        // Notice level logs the listening address and nothing per request. A fresh log: the port is read from it.
        _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        let child = try await ChildProcess.spawn(
            "apoxy server", executable: binary,
            arguments: ["server", "--listen", "127.0.0.1:0", "--log-level", "notice"] + arguments, logPath: logPath)
        let deadline = ContinuousClock.now + timeout
        while child.isRunning, ContinuousClock.now < deadline {
            if let match = child.log.firstMatch(of: /address=127\.0\.0\.1:([0-9]+)/), let port = Int(match.1),
                let client = try? await HTTPConnection.connect(host: "127.0.0.1", port: port, tls: tls)
            {
                let ready = (try? await client.request("GET", "/readyz"))?.status == 200
                await client.close()
                if ready { return ServerRunner(child: child, port: port) }
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        let running = child.isRunning
        await child.stop()
        throw BenchError(
            message: "apoxy server at \(binary) \(arguments.joined(separator: " ")) "
                + (running ? "was not ready within \(timeout)" : "exited during startup") + ": \(child.log.suffix(3000))")
    }

    /// Stops the server: SIGTERM, then SIGKILL after 10 s.
    func stop() async { await child.stop() }
}

/// A single-member etcd child with its data on disk in the benchmark's workspace, etcd's default settings
/// otherwise (fsync on every commit, default heartbeat, snapshot and quota), clients and peers on ports the kernel
/// picks.
final class EtcdRunner: Sendable {
    let child: ChildProcess
    let port: Int

    var pid: Int32 { child.processIdentifier }
    var url: String { "http://127.0.0.1:\(port)" }

    private init(child: ChildProcess, port: Int) {
        self.child = child
        self.port = port
    }

    /// The etcd to use: `--etcd-binary`, then `APOXY_ETCD`, then `.venv/bin/etcd` (scripts/install-tools.sh) in the
    /// current directory or above this executable (`.build/<config>/apoxy-bench`); nil when there is none.
    static func locate(option: String?) -> (path: String?, looked: [String]) {
        if let option { return (FileManager.default.isExecutableFile(atPath: option) ? option : nil, [option]) }
        if let env = ProcessInfo.processInfo.environment["APOXY_ETCD"] {
            return (FileManager.default.isExecutableFile(atPath: env) ? env : nil, [env])
        }
        var candidates = [FileManager.default.currentDirectoryPath + "/.venv/bin/etcd"]
        var directory = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
        for _ in 0..<4 {
            directory = directory.deletingLastPathComponent()
            candidates.append(directory.appendingPathComponent(".venv/bin/etcd").path)
        }
        return (candidates.first { FileManager.default.isExecutableFile(atPath: $0) }, candidates)
    }

    /// `etcd --version`'s first line's version, e.g. "3.5.1".
    static func version(binary: String) async -> String {
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("apoxy-bench-etcd-version-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: output) }
        guard let child = try? await ChildProcess.spawn("etcd --version", executable: binary, arguments: ["--version"], logPath: output)
        else { return "unknown" }
        await child.waitForExit(killingAfter: .seconds(10))
        return child.log.firstMatch(of: /etcd Version: ([0-9A-Za-z.\-]+)/).map { String($0.1) } ?? "unknown"
    }

    /// Runs `body` with etcd started as `start` does, and stops it afterwards, whatever happens.
    static func with<T>(binary: String, dataDir: String, _ body: (EtcdRunner) async throws -> T) async throws -> T {
        let runner = try await start(binary: binary, dataDir: dataDir)
        return try await withCleanup {
            try await body(runner)
        } cleanup: {
            await runner.stop()
        }
    }

    /// Starts etcd with its data in `dataDir` and returns once `/health` says it has a leader.
    static func start(binary: String, dataDir: String, timeout: Duration = .seconds(30)) async throws -> EtcdRunner {
        let any = "http://127.0.0.1:0"
        // The client URL is a port picked free here (as the tests' EtcdCluster does), not port 0: with port 0 etcd's
        // own gRPC gateway keeps dialling 127.0.0.1:0 and logging the failure, and its advertised URL is wrong. The
        // peer URL of a single member is never dialled, so it stays on port 0.
        let client = "http://127.0.0.1:\(try freePort())"
        _ = FileManager.default.createFile(atPath: dataDir + ".log", contents: nil)
        let child = try await ChildProcess.spawn(
            "etcd", executable: binary,
            arguments: [
                "--name", "bench", "--data-dir", dataDir,
                "--listen-client-urls", client, "--advertise-client-urls", client,
                "--listen-peer-urls", any, "--initial-advertise-peer-urls", any, "--initial-cluster", "bench=\(any)",
            ],
            logPath: dataDir + ".log")
        let deadline = ContinuousClock.now + timeout
        while child.isRunning, ContinuousClock.now < deadline {
            // etcd logs the client address it serves on.
            if let match = child.log.firstMatch(of: /"serving client traffic insecurely[^\n]*"address":"127\.0\.0\.1:([0-9]+)"/),
                let port = Int(match.1), let client = try? await HTTPConnection.connect(host: "127.0.0.1", port: port)
            {
                let health = try? await client.request("GET", "/health")
                await client.close()
                if let health, health.status == 200, health.text.contains(#""health":"true""#) {
                    return EtcdRunner(child: child, port: port)
                }
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        let running = child.isRunning
        await child.stop()
        throw BenchError(
            message: "etcd at \(binary) " + (running ? "was not healthy within \(timeout)" : "exited during startup")
                + ": \(child.log.suffix(3000))")
    }

    /// Stops etcd: SIGTERM, then SIGKILL after 10 s.
    func stop() async { await child.stop() }
}

/// Runs `body` and returns its result, or throws once `limit` has passed (cancelling `body`, which is then left to
/// end on its own: a stuck request must not hang the benchmark).
func withTimeLimit<T: Sendable>(_ step: String, _ limit: Duration, _ body: @escaping @Sendable () async throws -> T) async throws -> T {
    let race = TimeLimitRace<T>()
    return try await withCheckedThrowingContinuation { continuation in
        race.begin(continuation)
        let work = Task {
            do { race.finish(.success(try await body())) } catch { race.finish(.failure(error)) }
        }
        let timer = Task {
            guard (try? await Task.sleep(for: limit)) != nil else { return }
            race.finish(.failure(BenchError(message: "step \"\(step)\" exceeded its time limit of \(limit)")))
        }
        race.track(work: work, timer: timer)
    }
}

/// The first of a step's result and its timer to arrive resumes the caller; the other is cancelled.
private final class TimeLimitRace<T: Sendable>: Sendable {
    private struct State {
        var continuation: CheckedContinuation<T, any Error>?
        var tasks: [Task<Void, Never>] = []
        var done = false
    }
    private let state = Mutex(State())

    func begin(_ continuation: CheckedContinuation<T, any Error>) { state.withLock { $0.continuation = continuation } }

    func track(work: Task<Void, Never>, timer: Task<Void, Never>) {
        let done = state.withLock { state in
            if !state.done { state.tasks = [work, timer] }
            return state.done
        }
        if done { timer.cancel() }
    }

    func finish(_ result: Result<T, any Error>) {
        let (continuation, tasks) = state.withLock { state in
            defer { state = State(done: true) }
            return (state.continuation, state.tasks)
        }
        for task in tasks { task.cancel() }
        continuation?.resume(with: result)
    }
}

/// The time limit of each measured step (`--step-timeout`).
enum StepLimit {
    nonisolated(unsafe) static var limit: Duration = .seconds(300)
}

/// A loopback TCP port that was free a moment ago.
func freePort() throws -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = 0
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
    }
    guard bound == 0 else { throw BenchError(message: "bind to a free loopback port failed") }
    _ = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
    }
    return Int(UInt16(bigEndian: address.sin_port))
}
