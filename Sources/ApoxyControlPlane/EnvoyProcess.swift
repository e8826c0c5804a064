import Foundation
public import Logging
public import ServiceLifecycle
import Subprocess
import Synchronization
import SystemPackage

/// Envoy as a child process and a `Service` (swift-subprocess): started with a generated bootstrap and every signal at
/// its default disposition (graceful-shutdown handling ignores SIGTERM and SIGINT here, and a child would inherit
/// that), its output appended to a log file, and stopped with SIGTERM on graceful shutdown (SIGKILL if it has not
/// exited 10 s later). Its exit is observed through a pidfd, not polled.
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
        // Envoy's output (its log goes to stderr) is appended to the log file.
        // Created only when missing: an earlier run's log is kept and appended to.
        if !FileManager.default.fileExists(atPath: logPath) { _ = FileManager.default.createFile(atPath: logPath, contents: nil) }
        guard let log = FileHandle(forWritingAtPath: logPath) else {
            throw ExitError(description: "cannot open Envoy's log file \(logPath)")
        }
        defer { try? log.close() }
        _ = try? log.seekToEnd()
        var options = PlatformOptions()
        // Cancelled rather than shut down gracefully: do not leave Envoy behind (the last step is always SIGKILL).
        options.teardownSequence = []
        let stopping = OnceFlag()
        let result: ExecutionResult<Void, SequenceOutput, CombinedErrorOutput>
        do {
            result = try await Subprocess.run(
                .path(FilePath(executable)),
                arguments: ["-c", bootstrapPath, "--disable-hot-restart", "--log-level", logLevel],
                platformOptions: options, input: .none, output: .sequence, error: .combinedWithOutput
            ) { execution in
                logger.notice("Envoy started", metadata: ["pid": "\(execution.processIdentifier)", "log": "\(logPath)"])
                await withTaskGroup(of: Void.self) { group in
                    group.addTask {
                        // Returns when graceful shutdown starts; throws when cancelled (Envoy has exited).
                        try? await gracefulShutdown()
                        guard !Task.isCancelled else { return }
                        stopping.set()
                        await execution.teardown(using: [.gracefulShutDown(allowedDurationToNextStep: .seconds(10))])
                    }
                    // Until Envoy exits, which closes its output.
                    do {
                        for try await chunk in execution.standardOutput {
                            chunk.withUnsafeBytes { log.write(Data($0)) }
                        }
                    } catch {
                        logger.warning("cannot read Envoy's output", metadata: ["error": "\(error)"])
                    }
                    group.cancelAll()
                }
            }
        } catch let error as SubprocessError {
            throw ExitError(description: "cannot start Envoy at \(executable): \(error)")
        }
        let shuttingDown = stopping.isSet || Task.isCancelled
        logger.notice("Envoy exited", metadata: ["status": "\(result.terminationStatus)"])
        if !shuttingDown {
            throw ExitError(description: "Envoy exited unexpectedly (\(result.terminationStatus)); see \(logPath)")
        }
    }
}

/// A flag set once, from any task.
final class OnceFlag: Sendable {
    private let value = Mutex(false)
    func set() { value.withLock { $0 = true } }
    var isSet: Bool { value.withLock { $0 } }
}
