import ApoxyAPI
import ApoxyCLI
import ApoxyTestSupport
import Foundation
import Testing

/// A real `apoxy server` on loopback with its own data folder, and a way to run the `apoxy` client against it.
struct CLISession: Sendable {
    let server: ServerProcess
    let directory: URL

    /// The server's address.
    var url: String { "http://127.0.0.1:\(server.port)" }

    /// Starts a server in a fresh temporary folder, runs `body`, and stops the server whatever happens.
    static func with(_ body: (CLISession) async throws -> Void) async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("apoxy-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let server = try await ServerProcess.start(dataDir: directory.appendingPathComponent("data").path)
        let session = CLISession(server: server, directory: directory)
        do {
            try await body(session)
        } catch {
            await server.stop()
            throw error
        }
        await server.stop()
        try? FileManager.default.removeItem(at: directory)
    }

    /// The environment every client run gets: no kubeconfig, editor or home directory from the developer's shell,
    /// and temporary files (edit's) in the session folder.
    var baseEnvironment: [String: String] {
        ["HOME": directory.path, "KUBECONFIG": "", "KUBE_EDITOR": "", "EDITOR": "", "TMPDIR": directory.path]
    }

    /// The files `apoxy backend edit` left in the session folder.
    func editFiles() throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.hasPrefix("apoxy-edit-") }
    }

    /// Runs `apoxy ARGS` with `--server` pointing at this session's server (appended last; connection options
    /// may follow the subcommand).
    func apoxy(
        _ arguments: String..., stdin: String? = nil, environment: [String: String] = [:], timeout: Duration = .seconds(60)
    ) async throws -> ProcessResult {
        try await runProcess(
            apoxyBinary, arguments + ["--server", url], environment: baseEnvironment.merging(environment) { _, new in new },
            stdin: stdin, timeout: timeout)
    }

    /// Runs `apoxy ARGS` exactly as given (no `--server`).
    func apoxyRaw(
        _ arguments: [String], stdin: String? = nil, environment: [String: String] = [:], timeout: Duration = .seconds(60)
    ) async throws -> ProcessResult {
        try await runProcess(
            apoxyBinary, arguments, environment: baseEnvironment.merging(environment) { _, new in new }, stdin: stdin,
            timeout: timeout)
    }

    /// Writes a file in the session folder and returns its path.
    @discardableResult
    func write(_ name: String, _ contents: String) throws -> String {
        let url = directory.appendingPathComponent(name)
        try Data(contents.utf8).write(to: url)
        return url.path
    }

    /// The Backend `name` as JSON, read with the CLI.
    func object(_ name: String) async throws -> JSONValue {
        let result = try await apoxy("backend", "get", name, "-o", "json")
        #expect(result.status == 0, "get \(name): \(result.stderr)")
        return try JSONValue.parse(result.stdout)
    }
}

/// A Backend manifest in YAML.
func backendYAML(_ name: String, endpoints: [String] = ["ip: 10.0.0.1"], protocol: String = "tls", labels: [String: String] = [:]) -> String
{
    var text = """
        apiVersion: core.apoxy.dev/v1alpha2
        kind: Backend
        metadata:
          name: \(name)

        """
    if !labels.isEmpty {
        text += "  labels:\n" + labels.keys.sorted().map { "    \($0): \(labels[$0]!)\n" }.joined()
    }
    text += "spec:\n  endpoints:\n" + endpoints.map { "  - \($0)\n" }.joined()
    text += `protocol`.isEmpty ? "  protocol: \"\"\n" : "  protocol: \(`protocol`)\n"
    return text
}

extension Array where Element == String {
    /// The element at `index`, or "" past the end (so a short output fails an expectation instead of crashing).
    subscript(safe index: Int) -> String { indices.contains(index) ? self[index] : "" }
}

/// The non-empty lines of `text`.
func lines(_ text: String) -> [String] {
    text.split(separator: "\n").map(String.init)
}

/// Whether `text` matches the regular expression `pattern` in full.
func matches(_ text: String, _ pattern: String) -> Bool {
    text.range(of: "^" + pattern + "$", options: .regularExpression) != nil
}

/// Checks a failure: its exit code, and that stderr has no crash or stack trace.
func expectFailure(_ result: ProcessResult, _ code: Int32, _ context: String, sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(result.status == code, "\(context): exit \(result.status), stderr: \(result.stderr)", sourceLocation: sourceLocation)
    for crash in ["Fatal error", "Stack dump", "Current stack trace", "Swift runtime failure"] {
        #expect(!result.stderr.contains(crash), "\(context): \(result.stderr)", sourceLocation: sourceLocation)
    }
}
