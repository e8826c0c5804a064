import ApoxyAPI
import ApoxyClient
import ArgumentParser

extension BackendCommand {
    /// `apoxy backend delete`: by name, by the objects in files, or every one (`--all`, `-l`).
    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "delete",
            abstract: "Delete Backends by name, by file, or all of them.",
            discussion: """
                Give names, or -f with the files the Backends came from, or --all (optionally narrowed with -l \
                or --field-selector), or just -l. A missing name is an error (exit code 3) unless \
                --ignore-not-found; the other names are still deleted. An object with finalizers is marked for \
                deletion and goes once they are removed.

                Examples:
                  apoxy backend delete web
                  apoxy be delete web api db
                  apoxy be delete -f web.yaml
                  apoxy be delete --all
                  apoxy be delete -l team=edge

                \(CLIExitCode.helpTable)
                """
        )

        @OptionGroup(title: "Connection Options") var connection: ConnectionOptions

        @Argument(help: "Names of the Backends to delete.")
        var names: [String] = []

        @Option(
            name: [.customShort("f"), .customLong("filename")],
            help: ArgumentHelp("Delete the Backends named in these YAML or JSON files (- for stdin).", valueName: "file"),
            completion: .file(extensions: ["yaml", "yml", "json"]))
        var filenames: [String] = []

        @Flag(help: "Delete every Backend (or every one the selectors pick).")
        var all = false

        @OptionGroup var selectors: SelectorOptions

        @Flag(help: "Treat a Backend that does not exist as deleted.")
        var ignoreNotFound = false

        @Flag(help: "Ask the server to check the deletion without doing it (dryRun=All).")
        var dryRun = false

        func validate() throws {
            let collection = all || selectors.selector != nil || selectors.fieldSelector != nil
            let modes = [!names.isEmpty, !filenames.isEmpty, collection].filter { $0 }.count
            if modes == 0 { throw ValidationError("give Backend names, -f FILE, --all or -l SELECTOR") }
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
                            "DELETE", APIClient.collectionPath, query: selectors.query + dryRunQuery).body
                        let items = list["items"]?.arrayValue ?? []
                        if items.isEmpty { Console.error(["No resources found"]) }
                        Console.print(items.map { "\(APIClient.resourceName) \"\($0["metadata"]?["name"]?.stringValue ?? "")\" deleted\(suffix)" })
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
                        "DELETE", APIClient.collectionPath + "/" + APIClient.pathSegment(name), query: dryRunQuery)
                    if response.status == 404 && ignoreNotFound { return .null }
                    guard (200..<300).contains(response.status) else { throw APIClient.statusError(response) }
                    Console.print(["\(APIClient.resourceName) \"\(name)\" deleted\(suffix)"])
                    return .null
                }
                if let failure { throw failure }
            }
        }
    }
}
