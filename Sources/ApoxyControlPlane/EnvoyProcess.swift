import Foundation
import Logging
import ServiceLifecycle
import Synchronization

/// Envoy as a child process and a `Service`: started with a generated bootstrap, its log written to a file, and
/// stopped with SIGTERM on graceful shutdown (SIGKILL if it has not exited 10 s later).
public struct EnvoyProcess: Service {
    let executable: String
    let bootstrapPath: String
    let logPath: String
    let logLevel: String
    let logger: Logger

    /// Creates the service; nothing starts before `run()`.
    public init(executable: String, bootstrapPath: String, logPath: String, logLevel: String = "info", logger: Logger) {
        self.executable = executable
        self.bootstrapPath = bootstrapPath
        self.logPath = logPath
        self.logLevel = logLevel
        self.logger = logger
    }

    /// Errors of the Envoy child.
    public struct ExitError: Error, CustomStringConvertible {
        public var description: String
    }

    /// The Envoy to run: the given path, else $APOXY_ENVOY, `envoy` on PATH, or the project's .venv/bin/envoy.
    public static func locate(_ explicit: String?) -> String? {
        let fileManager = FileManager.default
        if let explicit { return explicit }
        if let fromEnvironment = ProcessInfo.processInfo.environment["APOXY_ENVOY"], !fromEnvironment.isEmpty {
            return fromEnvironment
        }
        let path = ProcessInfo.processInfo.environment["PATH"] ?? ""
        for folder in path.split(separator: ":") {
            let candidate = "\(folder)/envoy"
            if fileManager.isExecutableFile(atPath: candidate) { return candidate }
        }
        let venv = fileManager.currentDirectoryPath + "/.venv/bin/envoy"
        return fileManager.isExecutableFile(atPath: venv) ? venv : nil
    }

    public func run() async throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        // Hot restart is off so that several Envoys (tests, a second stack) can run on one machine.
        process.arguments = [
            "-c", bootstrapPath, "--disable-hot-restart", "--log-level", logLevel, "--log-path", logPath,
        ]
        process.standardInput = FileHandle.nullDevice
        let (exits, exited) = AsyncStream.makeStream(of: Int32.self)
        process.terminationHandler = { process in
            exited.yield(process.terminationStatus)
            exited.finish()
        }
        do {
            try process.run()
        } catch {
            throw ExitError(description: "cannot start Envoy at \(executable): \(error)")
        }
        logger.notice("Envoy started", metadata: ["pid": "\(process.processIdentifier)", "log": "\(logPath)"])
        let pid = process.processIdentifier
        let stopping = OnceFlag()
        let status: Int32? = await withTaskGroup(of: Int32?.self) { group in
            group.addTask {
                var iterator = exits.makeAsyncIterator()
                return await iterator.next()
            }
            group.addTask {
                // Returns when graceful shutdown starts; throws (and we stop Envoy too) when cancelled.
                try? await gracefulShutdown()
                guard !Task.isCancelled else { return nil }
                stopping.set()
                kill(pid, SIGTERM)
                try? await Task.sleep(for: .seconds(10))
                if process.isRunning {
                    kill(pid, SIGKILL)
                }
                return nil
            }
            var result: Int32?
            for await value in group {
                if let value {
                    result = value
                    break
                }
                // The stopper finished first (Envoy ignored SIGTERM and was killed): wait for the exit status.
            }
            group.cancelAll()
            return result
        }
        if status == nil, process.isRunning {
            // Cancelled rather than shut down gracefully: do not leave Envoy behind.
            kill(pid, SIGKILL)
        }
        let shuttingDown = stopping.isSet || Task.isCancelled
        logger.notice("Envoy exited", metadata: ["status": "\(status.map(String.init) ?? "unknown")"])
        if !shuttingDown {
            throw ExitError(description: "Envoy exited unexpectedly with status \(status ?? -1); see \(logPath)")
        }
    }
}

/// A flag set once, from any task.
final class OnceFlag: Sendable {
    private let value = Mutex(false)
    func set() { value.withLock { $0 = true } }
    var isSet: Bool { value.withLock { $0 } }
}
