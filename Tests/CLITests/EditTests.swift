import ApoxyAPI
import ApoxyTestSupport
import Foundation
import Testing

/// `apoxy backend edit` with scripted editors: invalid saves reopen with the error, as kubectl does.
@Suite("apoxy CLI: edit") struct EditTests {
    /// Writes an executable editor script and returns its path.
    func editor(_ session: CLISession, _ name: String, _ body: String) throws -> String {
        let path = try session.write(name, "#!/bin/sh\n" + body + "\n")
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: path)
        return path
    }

    @Test func invalidFirstSaveReopensWithTheError() async throws {
        try await CLISession.with { session in
            #expect(try await session.apoxy("be", "create", "-f", "-", stdin: backendYAML("web")).status == 0)
            let dir = session.directory.path
            let script = try editor(
                session, "editor.sh",
                """
                n=$(cat "\(dir)/count" 2>/dev/null || echo 0)
                echo $((n + 1)) > "\(dir)/count"
                cp "$1" "\(dir)/opened-$n.yaml"
                if [ "$n" = 0 ]; then
                  sed -i 's/protocol: tls/protocol: quic/' "$1"
                else
                  sed -i 's/protocol: quic/protocol: h2c/' "$1"
                fi
                """)
            let edited = try await session.apoxy("backend", "edit", "web", environment: ["EDITOR": script])
            #expect(edited.status == 0, "\(edited.stderr)")
            #expect(edited.stdout == "backend.core.apoxy.dev/web edited\n")
            #expect(try String(contentsOfFile: "\(dir)/count", encoding: .utf8) == "2\n")

            // The first file: the instructions, then the object as YAML without managedFields.
            let first = try String(contentsOfFile: "\(dir)/opened-0.yaml", encoding: .utf8)
            #expect(first.hasPrefix("# Please edit the object below. Lines beginning with a '#' will be ignored,\n"))
            #expect(first.contains("\n#\napiVersion: core.apoxy.dev/v1alpha2\nkind: Backend\n"))
            #expect(first.contains("  protocol: tls\n"))
            #expect(!first.contains("managedFields"))

            // The reopened file: the server's error as comments at the top, then the user's edit.
            let reopened = try String(contentsOfFile: "\(dir)/opened-1.yaml", encoding: .utf8)
            let comments = lines(reopened).filter { $0.hasPrefix("#") }
            #expect(comments.contains("# backend.core.apoxy.dev/web was not saved:"), "\(reopened)")
            #expect(comments.contains(#"# Error from server (Invalid): Backend.core.apoxy.dev "web" is invalid:"#), "\(reopened)")
            #expect(
                comments.contains(#"# * spec.protocol: Unsupported value: "quic": supported values: "", "tls", "h2", "h2c""#), "\(reopened)"
            )
            #expect(reopened.contains("  protocol: quic\n"))

            let object = try await session.object("web")
            #expect(object["spec"]?["protocol"] == "h2c")
            #expect(object["metadata"]?["generation"] == 2)
            #expect(try session.editFiles().isEmpty, "the temporary file is removed after a save")
        }
    }

    @Test func syntaxErrorReopensAndKubeEditorWins() async throws {
        try await CLISession.with { session in
            #expect(try await session.apoxy("be", "create", "-f", "-", stdin: backendYAML("web")).status == 0)
            let dir = session.directory.path
            // The first save breaks the YAML; the second adds a label (which a merge patch carries alone).
            let script = try editor(
                session, "editor.sh",
                """
                n=$(cat "\(dir)/count" 2>/dev/null || echo 0)
                echo $((n + 1)) > "\(dir)/count"
                if [ "$n" = 0 ]; then
                  cp "$1" "\(dir)/original.yaml"
                  printf 'metadata: [\\n' >> "$1"
                else
                  cp "$1" "\(dir)/reopened.yaml"
                  cp "\(dir)/original.yaml" "$1"
                  sed -i 's/^  name: web$/  name: web\\n  labels: {team: edge}/' "$1"
                fi
                """)
            let failing = try editor(session, "failing.sh", "exit 9")
            // KUBE_EDITOR is preferred to EDITOR, and may carry arguments.
            let edited = try await session.apoxy(
                "backend", "edit", "web", environment: ["KUBE_EDITOR": "sh \(script)", "EDITOR": failing])
            #expect(edited.status == 0, "\(edited.stderr)")
            let reopened = try String(contentsOfFile: "\(dir)/reopened.yaml", encoding: .utf8)
            #expect(reopened.contains("# The edited file had a syntax error: invalid YAML"), "\(reopened)")
            let object = try await session.object("web")
            #expect(object["metadata"]?["labels"] == ["team": "edge"])
            #expect(object["spec"]?["protocol"] == "tls")

            // An editor that fails: nothing saved, exit 1.
            let broken = try await session.apoxy("backend", "edit", "web", environment: ["EDITOR": failing])
            expectFailure(broken, 1, "failing editor")
            #expect(broken.stderr.contains("exited with status 9"), "\(broken.stderr)")
            #expect(try session.editFiles().isEmpty)
        }
    }

    @Test func unchangedEmptyAndStillInvalidSaves() async throws {
        try await CLISession.with { session in
            #expect(try await session.apoxy("be", "create", "-f", "-", stdin: backendYAML("web")).status == 0)
            let before = try await session.object("web")

            // Saved unchanged: nothing is written.
            let unchanged = try await session.apoxy("backend", "edit", "web", environment: ["EDITOR": "true"])
            #expect(unchanged.status == 0, "\(unchanged.stderr)")
            #expect(unchanged.stderr == "Edit cancelled, no changes made.\n")
            // Emptied: cancelled.
            let emptied = try editor(session, "empty.sh", ": > \"$1\"")
            let cancelled = try await session.apoxy("backend", "edit", "web", environment: ["EDITOR": emptied])
            #expect(cancelled.status == 0, "\(cancelled.stderr)")
            #expect(cancelled.stderr == "Edit cancelled, no changes made.\n")
            #expect(try await session.object("web")["metadata"]?["resourceVersion"] == before["metadata"]?["resourceVersion"])
            #expect(try session.editFiles().isEmpty)

            // Reopened with the error and saved as is: give up with the error's exit code, keeping the file.
            let stubborn = try editor(session, "stubborn.sh", "sed -i 's/protocol: tls/protocol: quic/' \"$1\"")
            let invalid = try await session.apoxy("backend", "edit", "web", environment: ["EDITOR": stubborn])
            expectFailure(invalid, 5, "still invalid after reopening")
            let errorLines = lines(invalid.stderr)
            #expect(errorLines.first == #"Error from server (Invalid): Backend.core.apoxy.dev "web" is invalid:"#, "\(invalid.stderr)")
            #expect(errorLines.contains("error: Edit cancelled, no valid changes were saved."), "\(invalid.stderr)")
            let kept = errorLines.last?.split(separator: "\"").dropFirst().first.map(String.init) ?? ""
            #expect(FileManager.default.fileExists(atPath: kept), "\(invalid.stderr)")
            #expect(try session.editFiles() == [URL(fileURLWithPath: kept).lastPathComponent])
            #expect((try? String(contentsOfFile: kept, encoding: .utf8))?.contains("protocol: quic") == true)
            try? FileManager.default.removeItem(atPath: kept)
            #expect(try await session.object("web")["spec"]?["protocol"] == "tls")
        }
    }
}
