import ApoxyAPI
import ArgumentParser

extension ResourceCommand {
    /// Options shared by the commands that write objects read from files.
    struct ManifestOptions: ParsableArguments {
        @Option(
            name: [.customShort("f"), .customLong("filename")],
            help: ArgumentHelp(
                "A YAML or JSON file (several documents allowed), a folder of them, or - for stdin. Repeatable.",
                valueName: "file"),
            completion: .file(extensions: ["yaml", "yml", "json"]))
        var filenames: [String] = []

        @Option(name: .shortAndLong, help: ArgumentHelp("Print the resulting objects: json, yaml or name.", valueName: "format"))
        var output: OutputFormat?

        @Flag(help: "Ask the server to validate and answer without storing anything (dryRun=All).")
        var dryRun = false

        func validate() throws {
            guard !filenames.isEmpty else { throw ValidationError("-f/--filename is required (a file, a folder, or - for stdin)") }
            if output == .wide { throw ValidationError("-o wide is only for reading; use json, yaml or name") }
        }

        /// Prints what happened to one object, unless -o prints the objects at the end instead.
        func report(_ object: JSONValue, _ verb: String) {
            guard output == nil else { return }
            Console.print(["\(ObjectPrinter.qualifiedName(object)) \(verb)\(dryRun ? " (server dry run)" : "")"])
        }

        /// Prints the written objects per -o.
        func printResults(_ objects: [JSONValue]) {
            if let output { ObjectPrinter.printObjects(objects.map(ObjectPrinter.withoutManagedFields), output) }
        }
    }

    /// `apoxy RESOURCE create -f FILE`: create each object in the files.
    struct Create: AsyncParsableCommand {
        static var configuration: CommandConfiguration {
            CommandConfiguration(
                commandName: "create",
                abstract: "Create \(R.kind)s from YAML or JSON files.",
                discussion: """
                    Each document (YAML documents separated by ---, a JSON object, or a List's items) is created \
                    with POST; an object that already exists is an error (exit code 4). All documents are tried; \
                    the exit code is the first failure's.

                    Examples:
                      apoxy \(R.commandName) create -f \(R.exampleName).yaml
                      apoxy \(R.shortName) create -f backends/        # its .yaml, .yml and .json files
                      cat \(R.exampleName).json | apoxy \(R.shortName) create -f -
                      apoxy \(R.shortName) create -f \(R.exampleName).yaml --dry-run -o yaml

                    \(CLIExitCode.helpTable)
                    """
            )
        }

        @OptionGroup(title: "Connection Options") var connection: ConnectionOptions
        @OptionGroup var manifests: ManifestOptions

        func run() async throws {
            try await reportingErrors {
                let objects = try ManifestReader.read(manifests.filenames)
                let client = APIClient(target: try connection.resolve())
                var query = [("fieldManager", APIClient.fieldManager)]
                if manifests.dryRun { query.append(("dryRun", "All")) }
                let (created, failure) = await client.forEach(objects) { session, manifest throws(CLIError) in
                    let object = try await session.call("POST", R.collectionPath, query: query, body: manifest.object).body
                    manifests.report(object, "created")
                    return object
                }
                manifests.printResults(created)
                if let failure { throw failure }
            }
        }
    }
}
