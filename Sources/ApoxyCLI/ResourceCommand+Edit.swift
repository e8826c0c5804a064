import ApoxyAPI
import ApoxyYAML
import ArgumentParser
import Foundation

extension ResourceCommand {
    /// `apoxy RESOURCE edit NAME`: change a object in an editor.
    struct Edit: AsyncParsableCommand {
        static var configuration: CommandConfiguration {
            CommandConfiguration(
                commandName: "edit",
                abstract: "Edit a \(R.kind) in your editor.",
                discussion: """
                    Opens the \(R.kind) as YAML in $KUBE_EDITOR, else $EDITOR, else vi. On save, the changes you made \
                    are sent as a JSON merge patch, so fields others changed meanwhile are kept. If the server \
                    rejects them, the file is reopened with the errors as # comments at the top, as kubectl does; \
                    saving it unchanged gives up (the error's exit code) and keeps the file. Saving the file \
                    unchanged, or empty, cancels without writing.

                    Examples:
                      apoxy \(R.commandName) edit \(R.exampleName)
                      KUBE_EDITOR="code --wait" apoxy \(R.shortName) edit \(R.exampleName)
                      EDITOR=nano apoxy \(R.shortName) edit \(R.exampleName)

                    \(CLIExitCode.helpTable)
                    """
            )
        }

        @OptionGroup(title: "Connection Options") var connection: ConnectionOptions

        @Argument(help: "The \(R.kind)'s name.")
        var name: String

        static var header: String {
            """
            # Please edit the object below. Lines beginning with a '#' will be ignored,
            # and an empty file will abort the edit. If an error occurs while saving this file will be
            # reopened with the relevant failures.
            #

            """
        }

        func run() async throws {
            try await reportingErrors {
                let client = APIClient(target: try connection.resolve())
                let path = R.collectionPath + "/" + APIClient.pathSegment(name)
                let original = ObjectPrinter.withoutManagedFields(
                    try await client.withSession { session throws(CLIError) in try await session.call("GET", path).body })
                let file = FileManager.default.temporaryDirectory
                    .appendingPathComponent("apoxy-edit-\(UUID().uuidString.prefix(8)).yaml").path
                var contents = Self.header + YAMLCoding.serialize(original)
                var rejected: (text: String, error: CLIError)?
                while true {
                    do {
                        try contents.write(toFile: file, atomically: true, encoding: .utf8)
                    } catch {
                        throw CLIError.client(.failure, "cannot write \(file): \(error.localizedDescription)")
                    }
                    do {
                        try await Editor.edit(path: file)
                    } catch {
                        try? FileManager.default.removeItem(atPath: file)
                        throw error
                    }
                    let saved = (try? String(contentsOfFile: file, encoding: .utf8)) ?? ""
                    let edited = Self.stripComments(saved)
                    if edited.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
                        try? FileManager.default.removeItem(atPath: file)
                        Console.error(["Edit cancelled, no changes made."])
                        return
                    }
                    if let rejected, rejected.text == edited {
                        // Reopened with the error and saved as is: give up, as kubectl does, keeping the file.
                        throw CLIError(
                            rejected.error.exitCode,
                            rejected.error.lines + [
                                "error: Edit cancelled, no valid changes were saved.",
                                "A copy of your changes has been stored to \"\(file)\"",
                            ])
                    }
                    do {
                        if try await save(edited, original: original, client: client, path: path) {
                            Console.print(["\(R.resourceName)/\(name) edited"])
                        } else {
                            Console.error(["Edit cancelled, no changes made."])
                        }
                        try? FileManager.default.removeItem(atPath: file)
                        return
                    } catch let error as CLIError where error.exitCode == .cannotConnect {
                        // Not the edit's fault: keep the work for a retry.
                        throw CLIError(error.exitCode, error.lines + ["A copy of your changes has been stored to \"\(file)\""])
                    } catch let error as CLIError {
                        rejected = (edited, error)
                        let comments = ["\(R.resourceName)/\(name) was not saved:"] + error.lines + [""]
                        contents = Self.header + comments.map { $0.isEmpty ? "#\n" : "# \($0)\n" }.joined() + edited
                    }
                }
            }
        }

        /// Sends the changes in `edited` against `original`; false when there were none.
        func save(_ edited: String, original: JSONValue, client: APIClient, path: String) async throws(CLIError) -> Bool {
            let documents: [JSONValue]
            do {
                documents = try YAMLCoding.parseDocuments(edited)
            } catch {
                throw CLIError(.badInput, ["The edited file had a syntax error: \(error.message)"])
            }
            guard documents.count == 1, let object = documents.first, object.objectValue != nil else {
                throw CLIError(.badInput, ["The edited file must hold exactly one object, found \(documents.count) documents"])
            }
            guard let patch = Self.mergePatch(from: original, to: object) else { return false }
            _ = try await client.withSession { session throws(CLIError) in
                try await session.call(
                    "PATCH", path, query: [("fieldManager", APIClient.fieldManager)],
                    contentType: "application/merge-patch+json", body: patch)
            }
            return true
        }

        /// The file without the lines that start with `#` (the instructions and errors this command wrote, and any
        /// the user added). Only column-0 comments go, so a `#` line inside a block scalar survives.
        static func stripComments(_ text: String) -> String {
            text.split(separator: "\n", omittingEmptySubsequences: false).filter { !$0.hasPrefix("#") }.joined(separator: "\n")
        }

        /// The RFC 7386 merge patch turning `original` into `edited`, or nil when they are equal.
        static func mergePatch(from original: JSONValue, to edited: JSONValue) -> JSONValue? {
            guard case .object(let before) = original, case .object(let after) = edited else {
                // No ternary here: JSONValue is ExpressibleByNilLiteral, so `c ? nil : edited` would yield `.null`.
                if original.semanticallyEquals(edited) { return nil }
                return edited
            }
            var patch = JSONObject()
            for (key, value) in after {
                if let old = before[key] {
                    if let change = mergePatch(from: old, to: value) { patch[key] = change }
                } else {
                    patch[key] = value
                }
            }
            for key in before.keys where after[key] == nil { patch[key] = .null }
            if patch.isEmpty { return nil }
            return .object(patch)
        }
    }
}
