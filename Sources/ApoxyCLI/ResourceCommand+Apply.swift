import ApoxyAPI
import ApoxyClient
import ArgumentParser

extension ResourceCommand {
    /// `apoxy RESOURCE apply -f FILE`: server-side apply of each object in the files.
    struct Apply: AsyncParsableCommand {
        static var configuration: CommandConfiguration {
            CommandConfiguration(
                commandName: "apply",
                abstract: "Create or update \(R.kind)s from files with server-side apply.",
                discussion: """
                    Sends each document as a server-side apply patch (PATCH, Content-Type \
                    application/apply-patch+yaml) under the field manager apoxy-cli: the server creates the object \
                    if it is missing ("created") and otherwise sets exactly the fields in the file ("configured"), \
                    keeping fields other managers own. A field another manager owns is a conflict (exit code 4) \
                    listing each field and its manager; --force-conflicts takes them over. Fields the same manager set \
                    with `create` or `edit` are not a conflict: `apoxy \(R.shortName) create -f x.yaml`, an edit of x.yaml, then \
                    `apoxy \(R.shortName) apply -f x.yaml` just works.

                    Examples:
                      apoxy \(R.commandName) apply -f \(R.exampleName).yaml
                      apoxy \(R.shortName) apply -f \(R.exampleName).yaml --force-conflicts
                      apoxy \(R.shortName) apply -f \(R.exampleName).yaml --field-manager ops
                      apoxy \(R.shortName) get \(R.exampleName) -o yaml | apoxy \(R.shortName) apply -f -

                    \(CLIExitCode.helpTable)
                    """
            )
        }

        @OptionGroup(title: "Connection Options") var connection: ConnectionOptions
        @OptionGroup var manifests: ManifestOptions

        @Flag(help: "Take over fields other field managers own instead of failing with a conflict.")
        var forceConflicts = false

        @Option(help: ArgumentHelp("The field manager recorded for the applied fields.", valueName: "name"))
        var fieldManager = APIClient.fieldManager

        func run() async throws {
            try await reportingErrors {
                let objects = try ManifestReader.read(manifests.filenames)
                for manifest in objects where (manifest.name ?? "").isEmpty {
                    throw CLIError.client(.badInput, "\(manifest.source): metadata.name is required for apply")
                }
                let client = APIClient(target: try connection.resolve())
                var query = [("fieldManager", fieldManager)]
                if forceConflicts { query.append(("force", "true")) }
                if manifests.dryRun { query.append(("dryRun", "All")) }
                let manager = fieldManager
                let (applied, failure) = await client.forEach(objects) { session, manifest throws(CLIError) in
                    let path = R.collectionPath + "/" + APIClient.pathSegment(manifest.name ?? "")
                    var response = try await session.send(
                        "PATCH", path, query: query, contentType: "application/apply-patch+yaml", body: manifest.object)
                    if response.status == 409, Self.conflictsOnlyWith(manager, response.body) {
                        // Every conflicting field is this manager's own, from `create` or `edit` (updates): the user
                        // does not conflict with themselves, so the fields move to the apply.
                        response = try await session.send(
                            "PATCH", path, query: query + [("force", "true")], contentType: "application/apply-patch+yaml",
                            body: manifest.object)
                    }
                    let (status, object) = try APIClient.decode(response)
                    manifests.report(object, status == 201 ? "created" : "configured")
                    return object
                }
                manifests.printResults(applied)
                if let failure { throw failure }
            }
        }

        /// Whether a 409 body is an apply conflict whose every field is owned by `manager` (under another operation).
        static func conflictsOnlyWith(_ manager: String, _ body: [UInt8]) -> Bool {
            guard let status = try? JSONValue.parse(body).value, status["reason"]?.stringValue == "Conflict",
                case .array(let causes)? = status["details"]?["causes"], !causes.isEmpty
            else { return false }
            let prefix = "conflict with \"\(manager)\""
            return causes.allSatisfy { cause in
                guard cause["reason"]?.stringValue == "FieldManagerConflict", let message = cause["message"]?.stringValue,
                    message.hasPrefix(prefix)
                else { return false }
                let rest = message.dropFirst(prefix.count)
                return rest.isEmpty || rest.hasPrefix(" ")
            }
        }
    }
}
