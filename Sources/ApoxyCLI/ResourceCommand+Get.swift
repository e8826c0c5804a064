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

        @OptionGroup var format: ReadOutputOptions

        func run() async throws {
            try await reportingErrors {
                let client = APIClient(target: try connection.resolve())
                let path = R.collectionPath + "/" + APIClient.pathSegment(name)
                try await client.withSession { session throws(CLIError) in
                    switch format.output {
                    case nil, .wide:
                        let table = try await session.call("GET", path, accept: APIClient.tableMediaType).body
                        Console.print(TextTable(serverTable: table, wide: format.output == .wide, showLabels: format.showLabels).lines())
                    case .name:
                        Console.print([ObjectPrinter.qualifiedName(try await session.call("GET", path).body)])
                    case .json, .yaml:
                        let fetched = try await session.call("GET", path).body
                        Console.write(ObjectPrinter.document(format.shown(fetched), format.output!))
                    }
                }
            }
        }
    }
}
