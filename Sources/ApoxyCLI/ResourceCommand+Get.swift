import ApoxyAPI
import ArgumentParser

extension ResourceCommand {
    /// `apoxy RESOURCE get NAME`: one object.
    struct Get: AsyncParsableCommand {
        static var configuration: CommandConfiguration {
            CommandConfiguration(
                commandName: "get",
                abstract: "Show one \(R.kind).",
                discussion: """
                    Prints the \(R.kind) as a table row unless -o says otherwise (json, yaml, name, wide). \
                    managedFields are left out of json and yaml unless --show-managed-fields is given.

                    Examples:
                      apoxy \(R.commandName) get \(R.exampleName)
                      apoxy \(R.shortName) get \(R.exampleName) -o yaml
                      apoxy \(R.shortName) get \(R.exampleName) -o json --show-managed-fields

                    \(CLIExitCode.helpTable)
                    """
            )
        }

        @OptionGroup(title: "Connection Options") var connection: ConnectionOptions

        @Argument(help: "The \(R.kind)'s name.")
        var name: String

        @Option(name: .shortAndLong, help: ArgumentHelp("Output format: json, yaml, name or wide (default: table).", valueName: "format"))
        var output: OutputFormat?

        @Flag(help: "Add a LABELS column to the table.")
        var showLabels = false

        @Flag(help: "Keep metadata.managedFields in json and yaml output.")
        var showManagedFields = false

        func run() async throws {
            try await reportingErrors {
                let client = APIClient(target: try connection.resolve())
                let path = R.collectionPath + "/" + APIClient.pathSegment(name)
                try await client.withSession { session throws(CLIError) in
                    switch output {
                    case nil, .wide:
                        let table = try await session.call("GET", path, accept: APIClient.tableMediaType).body
                        Console.print(TextTable(serverTable: table, wide: output == .wide, showLabels: showLabels).lines())
                    case .name:
                        Console.print([ObjectPrinter.qualifiedName(try await session.call("GET", path).body)])
                    case .json, .yaml:
                        let fetched = try await session.call("GET", path).body
                        let object = showManagedFields ? fetched : ObjectPrinter.withoutManagedFields(fetched)
                        Console.write(ObjectPrinter.document(object, output!))
                    }
                }
            }
        }
    }
}
