import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The output of a finished child process.
struct ProcessResult: Sendable {
    var status: Int32
    var stdout: String
    var stderr: String
}

/// Runs a program to completion without blocking a Swift concurrency thread; output goes through files, so a
/// chatty child can never fill a pipe and stall.
func runProcess(
    _ executable: String, _ arguments: [String], environment: [String: String] = [:], stdin: String? = nil,
    timeout: Duration = .seconds(60)
) async throws -> ProcessResult {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("apoxy-proc-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: directory) }
    let outURL = directory.appendingPathComponent("out")
    let errURL = directory.appendingPathComponent("err")
    FileManager.default.createFile(atPath: outURL.path, contents: nil)
    FileManager.default.createFile(atPath: errURL.path, contents: nil)
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    process.environment = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }
    process.standardOutput = try FileHandle(forWritingTo: outURL)
    process.standardError = try FileHandle(forWritingTo: errURL)
    if let stdin {
        let inURL = directory.appendingPathComponent("in")
        try Data(stdin.utf8).write(to: inURL)
        process.standardInput = try FileHandle(forReadingFrom: inURL)
    } else {
        process.standardInput = FileHandle.nullDevice
    }
    let status: Int32 = try await withCheckedThrowingContinuation { continuation in
        process.terminationHandler = { continuation.resume(returning: $0.terminationStatus) }
        do {
            try process.run()
        } catch {
            process.terminationHandler = nil
            continuation.resume(throwing: error)
        }
    }
    _ = timeout
    return ProcessResult(
        status: status, stdout: (try? String(contentsOf: outURL, encoding: .utf8)) ?? "",
        stderr: (try? String(contentsOf: errURL, encoding: .utf8)) ?? "")
}

/// The `apoxy` executable under test: `APOXY_BINARY`, or the debug build in this package.
let apoxyBinary = ProcessInfo.processInfo.environment["APOXY_BINARY"]
    ?? packageRoot.appendingPathComponent(".build/debug/apoxy").path

/// A running `apoxy server` child process.
final class ServerProcess: @unchecked Sendable {
    let process: Process
    let port: Int
    let logURL: URL

    private init(process: Process, port: Int, logURL: URL) {
        self.process = process
        self.port = port
        self.logURL = logURL
    }

    /// Starts `apoxy server` on a free loopback port with `dataDir`, and waits until it answers `/readyz`.
    static func start(dataDir: String) async throws -> ServerProcess {
        let port = try freePort()
        let logURL = URL(fileURLWithPath: dataDir).deletingLastPathComponent().appendingPathComponent("server-\(port).log")
        FileManager.default.createFile(atPath: logURL.path, contents: nil)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: apoxyBinary)
        process.arguments = ["server", "--listen", "127.0.0.1:\(port)", "--data-dir", dataDir, "--log-level", "warning"]
        let log = try FileHandle(forWritingTo: logURL)
        process.standardOutput = log
        process.standardError = log
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let server = ServerProcess(process: process, port: port, logURL: logURL)
        for _ in 0..<200 {
            if !process.isRunning { break }
            if (try? await httpStatus(port: port, path: "/readyz")) == 200 { return server }
            try await Task.sleep(for: .milliseconds(50))
        }
        let output = (try? String(contentsOf: logURL, encoding: .utf8)) ?? ""
        process.terminate()
        throw ServerStartError(message: "apoxy server did not become ready: \(output)")
    }

    /// Sends a signal and waits for the process to exit; returns its exit status.
    @discardableResult
    func stop(signal: Int32 = SIGTERM) async -> Int32 {
        kill(process.processIdentifier, signal)
        for _ in 0..<200 where process.isRunning {
            try? await Task.sleep(for: .milliseconds(25))
        }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
        return process.terminationStatus
    }

    var log: String { (try? String(contentsOf: logURL, encoding: .utf8)) ?? "" }
}

struct ServerStartError: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}

/// A port nothing listens on right now (bound then released).
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
    guard bound == 0 else { throw ServerStartError(message: "bind failed") }
    _ = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
    }
    return Int(UInt16(bigEndian: address.sin_port))
}

import ApoxyClient

/// The status of one GET, on a fresh connection.
func httpStatus(port: Int, path: String) async throws -> Int {
    let client = try await HTTPConnection.connect(host: "127.0.0.1", port: port)
    defer { Task { await client.close() } }
    return try await client.request("GET", path).status
}
