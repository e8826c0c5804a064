import Foundation
import Subprocess
import Synchronization
import SystemPackage

#if canImport(Glibc)
    public import Glibc
#endif

/// A long-running child process (a server under test, etcd) whose output is appended to a log file, on
/// swift-subprocess: it is spawned with every signal at its default disposition, its exit is seen through a pidfd
/// (no `waitpid` polling), and `stop` is SIGTERM, then SIGKILL after a grace period.
///
/// Tests and benchmarks stop a child, read its exit status and start it again in the middle of one scope, so the
/// child's run is a task this object owns rather than a closure's scope: `stop`/`waitForExit` await it, and
/// dropping the object without stopping it tears the child down (SIGTERM, then SIGKILL 5 s later).
public final class ChildProcess: Sendable {
    /// The child's process id.
    public let processIdentifier: Int32
    /// The file its standard output and error are appended to.
    public let logPath: String
    /// What the child is, for messages ("apoxy server").
    public let what: String
    private let run: Task<Int32, any Error>
    private let exitStatus: ExitStatus

    /// The exit status once the child has exited, shared with the task that runs it.
    final class ExitStatus: Sendable {
        let value = Mutex<Int32?>(nil)
    }

    private init(processIdentifier: Int32, logPath: String, what: String, run: Task<Int32, any Error>, exitStatus: ExitStatus) {
        self.processIdentifier = processIdentifier
        self.logPath = logPath
        self.what = what
        self.run = run
        self.exitStatus = exitStatus
    }

    deinit { run.cancel() }

    /// Why a child could not be started.
    public struct SpawnError: Error, CustomStringConvertible {
        public var description: String
    }

    /// Starts `executable` with `arguments`; its output is appended to `logPath` (created when missing) and its
    /// standard input is empty. Returns once the child runs.
    public static func spawn(
        _ what: String, executable: String, arguments: [String], environment: [String: String] = [:], logPath: String
    ) async throws -> ChildProcess {
        let path = FilePath(logPath)
        let permissions: FilePermissions = [.ownerReadWrite, .groupRead, .otherRead]
        // Two descriptors in append mode, so stdout and stderr interleave in the file without overwriting each other.
        let output = try FileDescriptor.open(path, .writeOnly, options: [.append, .create], permissions: permissions)
        let error: FileDescriptor
        do {
            error = try FileDescriptor.open(path, .writeOnly, options: [.append, .create], permissions: permissions)
        } catch {
            try? output.close()
            throw error
        }
        let overrides = Dictionary(uniqueKeysWithValues: environment.map { (Environment.Key(stringLiteral: $0.key), Optional($0.value)) })
        let (started, pid) = AsyncThrowingStream.makeStream(of: pid_t.self)
        let exitStatus = ExitStatus()
        let run = Task {
            var options = PlatformOptions()
            options.teardownSequence = [.gracefulShutDown(allowedDurationToNextStep: .seconds(5))]
            do {
                let result = try await Subprocess.run(
                    .path(FilePath(executable)), arguments: Arguments(arguments), environment: .inherit.updating(overrides),
                    platformOptions: options, input: .none, output: .fileDescriptor(output, closeAfterSpawningProcess: true),
                    error: .fileDescriptor(error, closeAfterSpawningProcess: true)
                ) { execution in
                    // Returning at once is fine: `run` returns only once the child has exited.
                    pid.yield(execution.processIdentifier.value)
                    pid.finish()
                }
                let status: Int32
                switch result.terminationStatus {
                case .exited(let code): status = code
                // As shells report it.
                case .signaled(let signal): status = 128 + signal
                }
                exitStatus.value.withLock { $0 = status }
                return status
            } catch {
                exitStatus.value.withLock { $0 = -1 }
                pid.finish(throwing: SpawnError(description: "cannot start \(what) at \(executable): \(error)"))
                throw error
            }
        }
        for try await processIdentifier in started {
            return ChildProcess(processIdentifier: processIdentifier, logPath: logPath, what: what, run: run, exitStatus: exitStatus)
        }
        throw SpawnError(description: "cannot start \(what) at \(executable)")
    }

    /// Whether the child has not exited yet.
    public var isRunning: Bool { exitStatus.value.withLock { $0 == nil } }

    /// What the child has written so far.
    public var log: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

    /// Sends `signal` to the child, if it still runs.
    public func send(_ signal: Int32) {
        guard isRunning else { return }
        kill(processIdentifier, signal)
    }

    /// Waits for the child to exit; returns its exit status (128 + the signal for a signalled child, as shells
    /// report it).
    @discardableResult
    public func waitForExit() async -> Int32 {
        (try? await run.value) ?? -1
    }

    /// Waits up to `limit` for the child to exit, then SIGKILLs it if it still runs; returns the exit status.
    @discardableResult
    public func waitForExit(killingAfter limit: Duration) async -> Int32 {
        await withTaskGroup(of: Int32?.self) { group in
            group.addTask { await self.waitForExit() }
            group.addTask {
                try? await Task.sleep(for: limit)
                return nil
            }
            if let status = await group.next() ?? nil {
                group.cancelAll()
                return status
            }
            if isRunning {
                FileHandle.standardError.write(Data("\(what) (pid \(processIdentifier)) still ran after \(limit); killing it\n".utf8))
                kill(processIdentifier, SIGKILL)
            }
            return (await group.next() ?? nil) ?? -1
        }
    }

    /// Sends `signal` (SIGTERM by default), then SIGKILL if the child is still there after `grace`; waits for the
    /// exit and returns its status. A child that has already exited just returns its status.
    @discardableResult
    public func stop(signal: Int32 = SIGTERM, grace: Duration = .seconds(10)) async -> Int32 {
        send(signal)
        return await waitForExit(killingAfter: grace)
    }
}
