import ApoxyAPI
public import ArgumentParser

/// `apoxy version`: the client's version and the server's.
public struct VersionCommand: AsyncParsableCommand {
    /// The command's name and help.
    public static let configuration = CommandConfiguration(
        commandName: "version",
        abstract: "Print the client and server versions.",
        discussion: """
            Prints this client's version, then the server's gitVersion from its /version endpoint. The client \
            line is printed even when the server cannot be reached (exit code 6).

            Examples:
              apoxy version
              apoxy version --client
              apoxy version -o json --server http://127.0.0.1:8080

            \(CLIExitCode.helpTable)
            """
    )

    @OptionGroup(title: "Connection Options") var connection: ConnectionOptions

    @Flag(help: "Print only the client version; do not contact the server.")
    var client = false

    @Option(name: .shortAndLong, help: ArgumentHelp("Output format: json or yaml (default: two lines of text).", valueName: "format"))
    var output: OutputFormat?

    /// Creates the command with default options.
    public init() {}

    /// Rejects output formats that make no sense for versions.
    public func validate() throws {
        if output == .name || output == .wide { throw ValidationError("-o must be json or yaml") }
    }

    /// Prints the versions.
    public func run() async throws {
        try await reportingErrors {
            var document: JSONValue = ["clientVersion": ["gitVersion": .string(CLIVersion.current)]]
            if output == nil { Console.print(["Client Version: \(CLIVersion.current)"]) }
            guard !client else {
                if let output { Console.write(ObjectPrinter.document(document, output)) }
                return
            }
            let apiClient = APIClient(target: try connection.resolve())
            let server: JSONValue
            do {
                server = try await apiClient.withSession { session throws(CLIError) in try await session.call("GET", "/version").body }
            } catch {
                if let output { Console.write(ObjectPrinter.document(document, output)) }
                throw error
            }
            document["serverVersion"] = server
            if let output {
                Console.write(ObjectPrinter.document(document, output))
            } else {
                Console.print(["Server Version: \(server["gitVersion"]?.stringValue ?? "unknown")"])
            }
        }
    }
}

/// This client's version.
public enum CLIVersion {
    /// The version `apoxy version` reports for the client.
    public static let current = "v0.1.0"
}
