import ApoxyClient
public import ApoxyProcess
public import Foundation
public import NIOSSL
import Subprocess
import SystemPackage

#if canImport(Glibc)
    import Glibc
#endif

// Test support shared by IntegrationTests and CLITests: child processes with their output in files and a
// timeout, and the `apoxy server` child.

/// The output of a finished child process.
public struct ProcessResult: Sendable {
    public var status: Int32
    public var stdout: String
    public var stderr: String
}

/// The package's root folder.
public let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

/// The `apoxy` executable under test: `APOXY_BINARY`, or the debug build in this package.
public let apoxyBinary =
    ProcessInfo.processInfo.environment["APOXY_BINARY"]
    ?? packageRoot.appendingPathComponent(".build/debug/apoxy").path

/// Runs a program to completion (swift-subprocess: every signal at its default disposition in the child, its exit
/// seen through a pidfd). Output is captured as it comes, so a chatty child never stalls on a full pipe. After
/// `timeout` the child gets SIGTERM, then SIGKILL 5 s later, and the result says it timed out.
public func runProcess(
    _ executable: String, _ arguments: [String], environment: [String: String] = [:], stdin: String? = nil,
    timeout: Duration = .seconds(60)
) async throws -> ProcessResult {
    let overrides = Dictionary(uniqueKeysWithValues: environment.map { (Environment.Key(stringLiteral: $0.key), Optional($0.value)) })
    return try await withThrowingTaskGroup(of: ProcessResult?.self) { group in
        group.addTask {
            var options = PlatformOptions()
            options.teardownSequence = [.gracefulShutDown(allowedDurationToNextStep: .seconds(5))]
            // No stdin is an empty one: the child reads end-of-file at once.
            let result = try await Subprocess.run(
                .path(FilePath(executable)), arguments: Arguments(arguments), environment: .inherit.updating(overrides),
                platformOptions: options, input: .string(stdin ?? ""), output: .string(limit: 64 << 20),
                error: .string(limit: 64 << 20))
            let status: Int32
            switch result.terminationStatus {
            case .exited(let code): status = code
            // As shells report it.
            case .signaled(let signal): status = 128 + signal
            }
            return ProcessResult(status: status, stdout: result.standardOutput, stderr: result.standardError)
        }
        group.addTask {
            try await Task.sleep(for: timeout)
            return nil
        }
        let first = try await group.next() ?? nil
        group.cancelAll()
        if let first { return first }
        // Timed out: cancelling the run tears the child down (SIGTERM, then SIGKILL); wait for that to finish.
        _ = try? await group.next()
        return ProcessResult(status: -1, stdout: "", stderr: "\(executable) timed out after \(timeout)")
    }
}

/// A running `apoxy server` child process.
public final class ServerProcess: Sendable {
    /// The child (its pid, its log, its exit).
    public let child: ChildProcess
    public let port: Int
    public let logURL: URL

    private init(child: ChildProcess, port: Int, logURL: URL) {
        self.child = child
        self.port = port
        self.logURL = logURL
    }

    /// Starts `apoxy server` on a port the kernel picks (`--listen 127.0.0.1:0`, read back from its log, so two
    /// tests can never race for one port), and waits until it answers `/readyz` (any answer once `tls` is given:
    /// with authentication on, an anonymous probe may well be refused).
    public static func start(dataDir: String, arguments: [String] = [], tls: TLSConfiguration? = nil) async throws -> ServerProcess {
        let logURL = URL(fileURLWithPath: dataDir).deletingLastPathComponent().appendingPathComponent("server.log")
        return try await start(arguments: ["--data-dir", dataDir] + arguments, logURL: logURL, tls: tls)
    }

    /// Starts `apoxy server` with `arguments` (after `--listen 127.0.0.1:0 --log-level notice`), its output in `logURL`.
    public static func start(arguments: [String], logURL: URL, tls: TLSConfiguration? = nil) async throws -> ServerProcess {
        // A fresh log: the port is read from it.
        _ = FileManager.default.createFile(atPath: logURL.path, contents: nil)
        let child = try await ChildProcess.spawn(
            "apoxy server", executable: apoxyBinary,
            arguments: ["server", "--listen", "127.0.0.1:0", "--log-level", "notice"] + arguments, logPath: logURL.path)
        for _ in 0..<300 {
            if !child.isRunning { break }
            if let match = child.log.firstMatch(of: /address=127\.0\.0\.1:([0-9]+)/), let port = Int(match.1),
                await isReady(port: port, tls: tls)
            {
                return ServerProcess(child: child, port: port, logURL: logURL)
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        await child.stop(grace: .seconds(5))
        throw TestSetupError(message: "apoxy server did not become ready: \(child.log)")
    }

    /// Sends `signal` (SIGTERM by default; SIGKILL if it lingers 5 s) and waits for the exit; returns the exit status.
    @discardableResult
    public func stop(signal: Int32 = SIGTERM) async -> Int32 {
        await child.stop(signal: signal, grace: .seconds(5))
    }

    /// What the server logged.
    public var log: String { child.log }
}

public struct TestSetupError: Error, CustomStringConvertible {
    public var message: String
    public var description: String { message }

    /// Creates an error.
    public init(message: String) { self.message = message }
}

/// A port nothing listens on right now (bound then released).
public func freePort() throws -> Int {
    let (fd, port) = try boundUnlistenedSocket()
    close(fd)
    return port
}

/// Runs `body` with a loopback port that refuses connections for as long as `body` runs: the port is bound (so
/// nothing else can take it) but never listened on, unlike a port that `freePort` has released.
public func withRefusingPort<T>(_ body: (Int) async throws -> T) async throws -> T {
    let (fd, port) = try boundUnlistenedSocket()
    defer { close(fd) }
    return try await body(port)
}

/// Runs `body` with a loopback port that accepts connections (into the kernel's backlog) but never answers: a
/// server that hangs.
public func withSilentPort<T>(_ body: (Int) async throws -> T) async throws -> T {
    let (fd, port) = try boundUnlistenedSocket()
    defer { close(fd) }
    guard listen(fd, 16) == 0 else { throw TestSetupError(message: "listen failed") }
    return try await body(port)
}

private func boundUnlistenedSocket() throws -> (Int32, Int) {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw TestSetupError(message: "socket failed") }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = 0
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
    }
    guard bound == 0 else {
        close(fd)
        throw TestSetupError(message: "bind failed")
    }
    _ = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
    }
    return (fd, Int(UInt16(bigEndian: address.sin_port)))
}

/// Whether the server on `port` answers `/readyz` with 200 (over `tls`: answers at all).
public func isReady(port: Int, tls: TLSConfiguration? = nil) async -> Bool {
    guard let client = try? await HTTPConnection.connect(host: "127.0.0.1", port: port, tls: tls) else { return false }
    let status = try? await client.request("GET", "/readyz").status
    await client.close()
    return tls == nil ? status == 200 : status != nil
}

/// The status of one GET, on a fresh connection.
public func httpStatus(port: Int, path: String) async throws -> Int {
    let client = try await HTTPConnection.connect(host: "127.0.0.1", port: port)
    return try await withCleanup {
        return try await client.request("GET", path).status
    } cleanup: {
        await client.close()
    }
}

/// Open watches of `kind` a server reports (the sum of its `apiserver_registered_watchers` samples for the kind).
public func registeredWatchers(kind: String, metrics: String) -> Int {
    Int(metricSum("apiserver_registered_watchers", labels: ["kind=\"\(kind)\""], in: metrics))
}

/// The sum of every sample of `metric` whose line contains every one of `labels` (0 when none does).
public func metricSum(_ metric: String, labels: [String] = [], in metrics: String) -> Double {
    metrics.split(separator: "\n").reduce(0) { total, line in
        guard line.hasPrefix(metric + "{") || line.hasPrefix(metric + " "), labels.allSatisfy({ line.contains($0) }),
            let value = line.split(separator: " ").last.flatMap({ Double($0) })
        else { return total }
        return total + value
    }
}

/// The plain-HTTP server's `/metrics` on `port`, read once on a fresh connection.
public func metrics(port: Int) async throws -> String {
    let client = try await HTTPConnection.connect(host: "127.0.0.1", port: port)
    return try await withCleanup {
        try await client.request("GET", "/metrics").text
    } cleanup: {
        await client.close()
    }
}

/// The value of the first sample of `metric` whose line contains every one of `labels` (`kind="Backend"`), or nil.
public func metricValue(_ metric: String, labels: [String] = [], in metrics: String) -> Double? {
    for line in metrics.split(separator: "\n") where line.hasPrefix(metric + "{") || line.hasPrefix(metric + " ") {
        if labels.allSatisfy({ line.contains($0) }), let value = line.split(separator: " ").last.flatMap({ Double($0) }) {
            return value
        }
    }
    return nil
}

/// Waits until `condition` holds for the plain-HTTP server's `/metrics` on `port`: how a test knows that what it
/// started in other processes or connections (a watch, a stalled request) has reached the server, instead of
/// sleeping and hoping. Throws after `timeout`, with `what`.
public func waitForMetrics(
    port: Int, _ what: String, timeout: Duration = .seconds(30), _ condition: (String) -> Bool
) async throws {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if let text = try? await metrics(port: port), condition(text) { return }
        try await Task.sleep(for: .milliseconds(50))
    }
    throw TestSetupError(message: "server on port \(port): \(what) not seen within \(timeout)")
}

/// Waits until the server on `port` has at least `count` open watches of `kind`.
public func waitForWatchers(_ count: Int, kind: String = "Backend", port: Int, timeout: Duration = .seconds(30)) async throws {
    try await waitForMetrics(port: port, "\(count) open watches of \(kind)", timeout: timeout) {
        registeredWatchers(kind: kind, metrics: $0) >= count
    }
}
