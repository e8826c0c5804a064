import ApoxyAPI
import ApoxyClient
import ArgumentParser

extension ResourceCommand {
    /// `apoxy RESOURCE delete`: by name, by the objects in files, or every one (`--all`, `-l`).
    struct Delete: AsyncParsableCommand {
        static var configuration: CommandConfiguration {
            CommandConfiguration(
                commandName: "delete",
                abstract: "Delete \(R.kind)s by name, by file, or all of them.",
                discussion: """
                    Give names, or -f with the files the \(R.kind)s came from, or --all (optionally narrowed with -l \
                    or --field-selector), or just -l. A missing name is an error (exit code 3) unless \
                    --ignore-not-found; the other names are still deleted. An object with finalizers is marked for \
                    deletion and goes once they are removed.

                    Examples:
                      apoxy \(R.commandName) delete \(R.exampleName)
                      apoxy \(R.shortName) delete \(R.exampleName) api db
                      apoxy \(R.shortName) delete -f \(R.exampleName).yaml
                      apoxy \(R.shortName) delete --all
                      apoxy \(R.shortName) delete -l team=edge

                    \(CLIExitCode.helpTable)
                    """
            )
        }

        @OptionGroup(title: "Connection Options") var connection: ConnectionOptions

        @Argument(help: "Names of the \(R.kind)s to delete.")
        var names: [String] = []

        @Option(
            name: [.customShort("f"), .customLong("filename")],
            help: ArgumentHelp("Delete the \(R.kind)s named in these YAML or JSON files (- for stdin).", valueName: "file"),
            completion: .file(extensions: ["yaml", "yml", "json"]))
        var filenames: [String] = []

        @Flag(help: "Delete every \(R.kind) (or every one the selectors pick).")
        var all = false

        @OptionGroup var selectors: SelectorOptions

        @Flag(help: "Treat a \(R.kind) that does not exist as deleted.")
        var ignoreNotFound = false

        @Flag(help: "Ask the server to check the deletion without doing it (dryRun=All).")
        var dryRun = false

        func validate() throws {
            let collection = all || selectors.selector != nil || selectors.fieldSelector != nil
            let modes = [!names.isEmpty, !filenames.isEmpty, collection].filter { $0 }.count
            if modes == 0 { throw ValidationError("give \(R.kind) names, -f FILE, --all or -l SELECTOR") }
            if modes > 1 { throw ValidationError("names, -f and --all/-l/--field-selector exclude each other") }
        }

        func run() async throws {
            try await reportingErrors {
                let suffix = dryRun ? " (server dry run)" : ""
                let dryRunQuery = dryRun ? [("dryRun", "All")] : []
                let client = APIClient(target: try connection.resolve())
                if all || selectors.selector != nil || selectors.fieldSelector != nil {
                    try await client.withSession { session throws(CLIError) in
                        let list = try await session.call(
                            "DELETE", R.collectionPath, query: selectors.query + dryRunQuery
                        ).body
                        let items = list["items"]?.arrayValue ?? []
                        if items.isEmpty { Console.error(["No resources found"]) }
                        Console.print(items.map { "\(R.resourceName) \"\($0["metadata"]?["name"]?.stringValue ?? "")\" deleted\(suffix)" })
                    }
                    return
                }
                var targets = names.map { Manifest(object: ["metadata": ["name": .string($0)]], source: $0) }
                if !filenames.isEmpty {
                    targets = try ManifestReader.read(filenames)
                    for manifest in targets where (manifest.name ?? "").isEmpty {
                        throw CLIError.client(.badInput, "\(manifest.source): metadata.name is required to delete")
                    }
                }
                let (_, failure) = await client.forEach(targets) { session, manifest throws(CLIError) in
                    let name = manifest.name ?? ""
                    let response = try await session.send(
                        "DELETE", R.collectionPath + "/" + APIClient.pathSegment(name), query: dryRunQuery)
                    if response.status == 404 && ignoreNotFound { return .null }
                    guard (200..<300).contains(response.status) else { throw APIClient.statusError(response) }
                    Console.print(["\(R.resourceName) \"\(name)\" deleted\(suffix)"])
                    return .null
                }
                if let failure { throw failure }
            }
        }
    }
}
