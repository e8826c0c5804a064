import ArgumentParser

/// The process exit codes of the `apoxy` client commands, one per kind of failure so scripts can branch on them.
public enum CLIExitCode: Int32, Sendable, CaseIterable {
    /// Everything worked.
    case success = 0
    /// Any other failure: a server error (5xx, 401, 403, ...), an unexpected response, an interrupted watch.
    case failure = 1
    /// Bad command line: unknown flag, missing argument, flags that exclude each other.
    case usage = 2
    /// The object does not exist (404 NotFound).
    case notFound = 3
    /// The object already exists, was changed meanwhile, or apply hit a field-manager conflict (409).
    case conflict = 4
    /// The server rejected the object as invalid (422 Invalid, 400 BadRequest).
    case invalid = 5
    /// The server could not be reached (refused, unresolvable, timed out, TLS handshake failed).
    case cannotConnect = 6
    /// An input file (a `-f` manifest or a kubeconfig) is missing, unreadable or malformed.
    case badInput = 7

    /// The table printed by `--help` and in the README.
    public static let helpTable = """
        Exit codes:
          0  success
          1  other failure (server error, unexpected response)
          2  usage error (unknown flag, missing or conflicting arguments)
          3  not found
          4  conflict: already exists, modified meanwhile, or apply conflict
          5  invalid: the server rejected the object
          6  cannot connect to the server (refused, DNS, timeout, TLS)
          7  bad input file (manifest or kubeconfig missing or malformed)
        """
}

/// A failure already explained to the user: what to print on stderr and the exit code.
public struct CLIError: Error, Sendable, CustomStringConvertible {
    /// The lines to print on standard error (without trailing newlines).
    public var lines: [String]
    /// The process exit code.
    public var exitCode: CLIExitCode

    /// Creates an error.
    public init(_ exitCode: CLIExitCode, _ lines: [String]) {
        self.lines = lines
        self.exitCode = exitCode
    }

    /// Creates an error with a single `error: ...` line, as kubectl words client-side failures.
    public static func client(_ exitCode: CLIExitCode, _ message: String) -> CLIError {
        CLIError(exitCode, ["error: " + message])
    }

    /// The lines, joined.
    public var description: String { lines.joined(separator: "\n") }
}

/// Runs a command body, turning every failure into its message on stderr and its exit code, so no user mistake
/// ends in a stack trace or ArgumentParser's generic `Error:` line.
func reportingErrors(_ body: () async throws -> Void) async throws {
    do {
        try await body()
    } catch let error as CLIError {
        Console.error(error.lines)
        throw ExitCode(error.exitCode.rawValue)
    } catch let error as ExitCode {
        throw error
    } catch let error as ValidationError {
        // Reported by ArgumentParser with the usage line.
        throw error
    } catch let error as CleanExit {
        throw error
    } catch {
        // Transport failures are already CLIErrors (APIClient maps them); anything else is unexpected.
        Console.error(["error: \(error)"])
        throw ExitCode(CLIExitCode.failure.rawValue)
    }
}
