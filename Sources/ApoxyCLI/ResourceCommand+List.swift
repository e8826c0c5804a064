import ApoxyAPI
import ArgumentParser

extension ResourceCommand {
    /// `apoxy RESOURCE list`: every object, or those the selectors pick.
    struct List: AsyncParsableCommand {
        static var configuration: CommandConfiguration {
            CommandConfiguration(
                commandName: "list",
                abstract: "List \(R.kind)s (the default subcommand).",
                discussion: """
                    Prints the server's table (\(R.columns)) unless -o says otherwise: json and \
                    yaml print the \(R.kind)List, name prints \(R.resourceName)/NAME lines, wide adds the \
                    columns the server marks as extra. managedFields are left out of json and yaml unless \
                    --show-managed-fields is given. With no match, prints "No resources found" on stderr.

                    Examples:
                      apoxy \(R.commandName) list
                      apoxy \(R.shortName) ls --show-labels
                      apoxy \(R.shortName) list -l team=edge,tier!=db
                      apoxy \(R.shortName) list --field-selector \(R.fieldSelectorExample) -o name
                      apoxy \(R.shortName) list -o yaml > backends.yaml

                    \(CLIExitCode.helpTable)
                    """,
                aliases: ["ls"]
            )
        }

        @OptionGroup(title: "Connection Options") var connection: ConnectionOptions
        @OptionGroup var selectors: SelectorOptions

        @OptionGroup var format: ReadOutputOptions

        @Option(help: "Read the list in pages of this many objects, as kubectl's --chunk-size; 0 reads it in one response.")
        var chunkSize = 500

        func validate() throws {
            if chunkSize < 0 { throw ValidationError("--chunk-size must be 0 or more") }
        }

        func run() async throws {
            try await reportingErrors {
                let client = APIClient(target: try connection.resolve())
                try await client.withSession { session throws(CLIError) in
                    switch format.output {
                    case nil, .wide:
                        let table = try await session.list(
                            R.collectionPath, query: selectors.query, chunkSize: chunkSize, accept: APIClient.tableMediaType)
                        let text = TextTable(serverTable: table, wide: format.output == .wide, showLabels: format.showLabels)
                        if text.rows.isEmpty {
                            Console.error(["No resources found"])
                        } else {
                            Console.print(text.lines())
                        }
                    case .name:
                        let list = try await session.list(R.collectionPath, query: selectors.query, chunkSize: chunkSize)
                        Console.print((list["items"]?.arrayValue ?? []).map(ObjectPrinter.qualifiedName))
                    case .json, .yaml:
                        let list = try await session.list(R.collectionPath, query: selectors.query, chunkSize: chunkSize)
                        Console.write(ObjectPrinter.document(format.shown(list), format.output!))
                    }
                }
            }
        }
    }
}
