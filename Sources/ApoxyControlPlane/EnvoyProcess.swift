import Foundation
import Logging
import ServiceLifecycle
import Synchronization

/// Envoy as a child process and a `Service`: started with a generated bootstrap, its log written to a file, and
/// stopped with SIGTERM on graceful shutdown (SIGKILL if it has not exited 10 s later).
/// Envoy writes its log to stderr, which goes to the log file.
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
        let arguments = [executable, "-c", bootstrapPath, "--disable-hot-restart", "--log-level", logLevel]
        let pid: pid_t
        do {
            pid = try ChildProcess.spawn(arguments, outputPath: logPath)
        } catch {
            throw ExitError(description: "cannot start Envoy at \(executable): \(error)")
        }
        logger.notice("Envoy started", metadata: ["pid": "\(pid)", "log": "\(logPath)"])
        let stopping = OnceFlag()
        let status: Int32? = await withTaskGroup(of: Int32?.self) { group in
            group.addTask { await ChildProcess.waitForExit(pid) }
            group.addTask {
                // Returns when graceful shutdown starts; throws when cancelled (Envoy has exited, or we are
                // being cancelled, which the code after the group handles).
                try? await gracefulShutdown()
                guard !Task.isCancelled else { return nil }
                stopping.set()
                kill(pid, SIGTERM)
                try? await Task.sleep(for: .seconds(10))
                if !Task.isCancelled {
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
        if status == nil {
            // Cancelled rather than shut down gracefully: do not leave Envoy behind.
            kill(pid, SIGKILL)
            _ = await ChildProcess.waitForExit(pid, ignoringCancellation: true)
        }
        let shuttingDown = stopping.isSet || Task.isCancelled
        logger.notice("Envoy exited", metadata: ["status": "\(status.map(String.init) ?? "killed")"])
        if !shuttingDown {
            throw ExitError(description: "Envoy exited unexpectedly with status \(status ?? -1); see \(logPath)")
        }
    }
}

/// posix_spawn with every signal at its default disposition and none blocked. Foundation's Process passes on the
/// ignored SIGTERM and SIGINT that graceful-shutdown signal handling sets up, so the child would never stop on them.
enum ChildProcess {
    struct SpawnError: Error, CustomStringConvertible {
        var description: String
    }

    static func spawn(_ arguments: [String], outputPath: String) throws -> pid_t {
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var defaults = sigset_t()
        sigfillset(&defaults)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        var empty = sigset_t()
        sigemptyset(&empty)
        posix_spawnattr_setsigmask(&attributes, &empty)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK))

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, outputPath, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)

        let argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        var pid: pid_t = 0
        let result = posix_spawn(&pid, arguments[0], &actions, &attributes, argv, environ)
        guard result == 0 else { throw SpawnError(description: String(cString: strerror(result))) }
        return pid
    }

    /// Polls for the child's exit (a blocking waitpid would hold a concurrency thread); nil when cancelled.
    static func waitForExit(_ pid: pid_t, ignoringCancellation: Bool = false) async -> Int32? {
        while ignoringCancellation || !Task.isCancelled {
            var status: Int32 = 0
            let result = waitpid(pid, &status, WNOHANG)
            if result == pid {
                // Exit code, or 128 + signal as shells report it.
                let signal = status & 0x7f
                return signal == 0 ? (status >> 8) & 0xff : 128 + signal
            }
            if result < 0 { return -1 }
            try? await Task.sleep(for: .milliseconds(50))
        }
        return nil
    }
}

/// A flag set once, from any task.
final class OnceFlag: Sendable {
    private let value = Mutex(false)
    func set() { value.withLock { $0 = true } }
    var isSet: Bool { value.withLock { $0 } }
}
