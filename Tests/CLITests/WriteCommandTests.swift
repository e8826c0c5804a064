import ApoxyAPI
import ApoxyCLI
import ApoxyTestSupport
import ApoxyYAML
import Foundation
import Testing

/// `apoxy backend create`, `apply` and `delete`: outputs, dry runs, conflicts and every way to pick objects.
@Suite("apoxy CLI: create, apply, delete") struct WriteCommandTests {
    @Test func createThenApplyOfAnEditedFileDoesNotConflictWithItself() async throws {
        try await CLISession.with { session in
            let file = try session.write("api.yaml", backendYAML("api"))
            let created = try await session.apoxy("backend", "create", "-f", file)
            #expect(created.status == 0, "\(created.stderr)")
            try session.write("api.yaml", backendYAML("api", protocol: "h2"))
            let applied = try await session.apoxy("backend", "apply", "-f", file)
            #expect(applied.status == 0, "\(applied.stderr)")
            #expect(applied.stdout == "backend.core.apoxy.dev/api configured\n")
            let object = try JSONValue.parse(try await session.apoxy("be", "get", "api", "-o", "json", "--show-managed-fields").stdout)
            #expect(object["spec"]?["protocol"] == "h2")
            // The apply now owns the changed field; create's entry keeps only what both set to the same value.
            let managers = object["metadata"]?["managedFields"]?.arrayValue ?? []
            let entry = { (operation: String) in managers.first { $0["operation"]?.stringValue == operation } }
            #expect(entry("Apply")?["fieldsV1"]?["f:spec"]?["f:protocol"] != nil)
            #expect(entry("Update")?["manager"] == "apoxy-cli")
            #expect(entry("Update")?["fieldsV1"]?["f:spec"]?["f:protocol"] == nil)

            // Another manager's field is still a conflict, with its name, and nothing is forced.
            let other = try session.write("api-ops.yaml", backendYAML("api", protocol: "h2c"))
            #expect(try await session.apoxy("backend", "apply", "-f", other, "--field-manager", "ops", "--force-conflicts").status == 0)
            try session.write("api.yaml", backendYAML("api", protocol: "tls"))
            let conflict = try await session.apoxy("backend", "apply", "-f", file)
            expectFailure(conflict, 4, "a field owned by ops")
            #expect(conflict.stderr.contains(#"conflict with "ops""#), "\(conflict.stderr)")
            #expect(try await session.object("api")["spec"]?["protocol"] == "h2c")
        }
    }

    @Test func applyCreatesConfiguresAndReportsConflicts() async throws {
        try await CLISession.with { session in
            let file = try session.write("web.yaml", backendYAML("web"))
            let created = try await session.apoxy("backend", "apply", "-f", file)
            #expect(created.status == 0, "\(created.stderr)")
            #expect(created.stdout == "backend.core.apoxy.dev/web created\n")
            let first = try await session.object("web")
            #expect(first["metadata"]?["generation"] == 1)

            // Apply again with a change: configured, generation 2, the field manager is apoxy-cli.
            try session.write("web.yaml", backendYAML("web", protocol: "h2"))
            let configured = try await session.apoxy("backend", "apply", "-f", file)
            #expect(configured.stdout == "backend.core.apoxy.dev/web configured\n", "\(configured.stderr)")
            let second = try JSONValue.parse(try await session.apoxy("be", "get", "web", "-o", "json", "--show-managed-fields").stdout)
            #expect(second["spec"]?["protocol"] == "h2")
            #expect(second["metadata"]?["generation"] == 2)
            #expect(second["metadata"]?["managedFields"]?.arrayValue?.compactMap { $0["manager"]?.stringValue } == ["apoxy-cli"])
            #expect(second["metadata"]?["managedFields"]?[0]?["operation"] == "Apply")

            // Another manager changing the same field conflicts: exit 4, the message, each field on its own line.
            let other = try session.write("web-h2c.yaml", backendYAML("web", protocol: "h2c"))
            let conflict = try await session.apoxy("backend", "apply", "-f", other, "--field-manager", "ops")
            expectFailure(conflict, 4, "apply conflict")
            let conflictLines = lines(conflict.stderr)
            #expect(
                conflictLines.first
                    == #"Error from server (Conflict): Apply failed with 1 conflict: conflict with "apoxy-cli" using core.apoxy.dev/v1alpha2: .spec.protocol"#,
                "\(conflict.stderr)")
            #expect(
                conflictLines.contains(#"* .spec.protocol: conflict with "apoxy-cli" using core.apoxy.dev/v1alpha2"#), "\(conflict.stderr)")
            #expect(try await session.object("web")["spec"]?["protocol"] == "h2")

            // --force-conflicts takes the field over.
            let forced = try await session.apoxy("backend", "apply", "-f", other, "--field-manager", "ops", "--force-conflicts")
            #expect(forced.status == 0, "\(forced.stderr)")
            #expect(forced.stdout == "backend.core.apoxy.dev/web configured\n")
            #expect(try await session.object("web")["spec"]?["protocol"] == "h2c")

            // -o json prints the applied object; --dry-run stores nothing.
            let dry = try await session.apoxy(
                "backend", "apply", "-f", "-", "--dry-run", "-o", "json", stdin: backendYAML("preview", protocol: "h2"))
            #expect(dry.status == 0, "\(dry.stderr)")
            #expect(try JSONValue.parse(dry.stdout)["metadata"]?["name"] == "preview")
            let gone = try await session.apoxy("backend", "get", "preview")
            expectFailure(gone, 3, "dry-run apply must not store")
            let dryText = try await session.apoxy("backend", "apply", "-f", "-", "--dry-run", stdin: backendYAML("preview"))
            #expect(dryText.stdout == "backend.core.apoxy.dev/preview created (server dry run)\n")

            // Several documents, one of them invalid: the others are applied, the exit code is the failure's.
            let mixed = try await session.apoxy(
                "backend", "apply", "-f", "-", "-o", "name",
                stdin: backendYAML("one") + "---\n" + backendYAML("two", protocol: "http3") + "---\n" + backendYAML("three"))
            expectFailure(mixed, 5, "one invalid document of three")
            #expect(mixed.stdout == "backend.core.apoxy.dev/one\nbackend.core.apoxy.dev/three\n", "\(mixed.stdout)")
            #expect(mixed.stderr.contains("spec.protocol: Unsupported value: \"http3\""), "\(mixed.stderr)")

            // A document without a name cannot be applied: a bad input file.
            let nameless = try await session.apoxy(
                "backend", "apply", "-f", "-",
                stdin: "apiVersion: core.apoxy.dev/v1alpha2\nkind: Backend\nspec: {endpoints: [{ip: 10.0.0.1}]}\n")
            expectFailure(nameless, 7, "apply without a name")
            #expect(nameless.stderr == "error: stdin: metadata.name is required for apply\n")
        }
    }

    @Test func createOutputsAndLists() async throws {
        try await CLISession.with { session in
            // -o yaml with two objects prints one List; a folder contributes each of its manifest files.
            let folder = session.directory.appendingPathComponent("manifests")
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            try Data(backendYAML("a").utf8).write(to: folder.appendingPathComponent("a.yaml"))
            try Data(
                #"{"apiVersion":"core.apoxy.dev/v1alpha2","kind":"Backend","metadata":{"name":"b"},"spec":{"endpoints":[{"ip":"10.0.0.2"}],"protocol":"h2"}}"#
                    .utf8
            )
            .write(to: folder.appendingPathComponent("b.json"))
            try Data("not a manifest".utf8).write(to: folder.appendingPathComponent("notes.txt"))
            let created = try await session.apoxy("backend", "create", "-f", folder.path, "-o", "yaml")
            #expect(created.status == 0, "\(created.stderr)")
            let documents = try YAMLCoding.parseDocuments(created.stdout)
            #expect(documents.count == 1)
            #expect(documents.first?["kind"] == "List")
            #expect(documents.first?["items"]?.arrayValue?.compactMap { $0["metadata"]?["name"]?.stringValue } == ["a", "b"])

            // A List document (as `list -o json` prints it) creates its items.
            let list: JSONValue = [
                "apiVersion": "v1", "kind": "List",
                "items": [
                    [
                        "apiVersion": "core.apoxy.dev/v1alpha2", "kind": "Backend", "metadata": ["name": "c"],
                        "spec": ["endpoints": [["ip": "10.0.0.3"]], "protocol": "tls"],
                    ],
                    [
                        "apiVersion": "core.apoxy.dev/v1alpha2", "kind": "Backend", "metadata": ["name": "d"],
                        "spec": ["endpoints": [["ip": "10.0.0.4"]], "protocol": "tls"],
                    ],
                ],
            ]
            let fromList = try await session.apoxy("be", "create", "-f", "-", "-o", "name", stdin: list.jsonString)
            #expect(fromList.stdout == "backend.core.apoxy.dev/c\nbackend.core.apoxy.dev/d\n", "\(fromList.stderr)")

            // -o json with one object prints the object itself, with the server's defaults filled in.
            let single = try await session.apoxy(
                "be", "create", "-f", "-", "-o", "json",
                stdin: backendYAML("dfp", endpoints: ["fqdn: upstream.example.com"], protocol: "H2") + "  dynamicProxy: {}\n")
            #expect(single.status == 0, "\(single.stderr)")
            let object = try JSONValue.parse(single.stdout)
            #expect(object["spec"]?["protocol"] == "h2")
            #expect(object["spec"]?["dynamicProxy"]?["dnsCacheConfig"]?["maxHosts"] == 1024)

            // -f repeats.
            let first = try session.write("f1.yaml", backendYAML("f1"))
            let second = try session.write("f2.yaml", backendYAML("f2"))
            let repeated = try await session.apoxy("be", "create", "-f", first, "--filename", second)
            #expect(repeated.stdout == "backend.core.apoxy.dev/f1 created\nbackend.core.apoxy.dev/f2 created\n", "\(repeated.stderr)")

            // --dry-run create stores nothing.
            let dry = try await session.apoxy("be", "create", "-f", "-", "--dry-run", stdin: backendYAML("e"))
            #expect(dry.stdout == "backend.core.apoxy.dev/e created (server dry run)\n", "\(dry.stderr)")
            expectFailure(try await session.apoxy("be", "get", "e"), 3, "dry-run create must not store")
        }
    }

    @Test func deleteByNameFileSelectorAndAll() async throws {
        try await CLISession.with { session in
            var manifests: [String] = []
            for (name, team) in [("a", "edge"), ("b", "edge"), ("c", "core"), ("d", "core"), ("e", "core"), ("f", "x")] {
                manifests.append(backendYAML(name, labels: ["team": team]))
            }
            let created = try await session.apoxy("be", "create", "-f", "-", stdin: manifests.joined(separator: "---\n"))
            #expect(created.status == 0, "\(created.stderr)")

            let one = try await session.apoxy("backend", "delete", "a")
            #expect(one.status == 0, "\(one.stderr)")
            #expect(one.stdout == "backend.core.apoxy.dev \"a\" deleted\n")

            // A missing name among others: the rest are deleted, the exit code says not found.
            let mixed = try await session.apoxy("backend", "delete", "b", "nope")
            expectFailure(mixed, 3, "delete with a missing name")
            #expect(mixed.stdout == "backend.core.apoxy.dev \"b\" deleted\n")
            #expect(mixed.stderr == "Error from server (NotFound): backends.core.apoxy.dev \"nope\" not found\n")
            let ignored = try await session.apoxy("backend", "delete", "nope", "--ignore-not-found")
            #expect(ignored.status == 0, "\(ignored.stderr)")
            #expect(ignored.stdout.isEmpty)

            // --dry-run keeps the object.
            let dry = try await session.apoxy("backend", "delete", "c", "--dry-run")
            #expect(dry.stdout == "backend.core.apoxy.dev \"c\" deleted (server dry run)\n", "\(dry.stderr)")
            #expect(try await session.apoxy("backend", "get", "c").status == 0)

            // By the file the object came from.
            let file = try session.write("c.yaml", backendYAML("c"))
            let byFile = try await session.apoxy("backend", "delete", "-f", file)
            #expect(byFile.stdout == "backend.core.apoxy.dev \"c\" deleted\n", "\(byFile.stderr)")

            // By label selector.
            let byLabel = try await session.apoxy("backend", "delete", "-l", "team=core")
            #expect(byLabel.stdout == "backend.core.apoxy.dev \"d\" deleted\nbackend.core.apoxy.dev \"e\" deleted\n", "\(byLabel.stderr)")

            // By field selector.
            let byField = try await session.apoxy("backend", "delete", "--field-selector", "metadata.name=f")
            #expect(byField.stdout == "backend.core.apoxy.dev \"f\" deleted\n", "\(byField.stderr)")
            #expect(try await session.apoxy("be", "create", "-f", "-", stdin: backendYAML("f")).status == 0)

            // --all, then nothing is left to delete.
            let all = try await session.apoxy("backend", "delete", "--all")
            #expect(all.stdout == "backend.core.apoxy.dev \"f\" deleted\n", "\(all.stderr)")
            let again = try await session.apoxy("backend", "delete", "--all")
            #expect(again.status == 0)
            #expect(again.stderr == "No resources found\n")
            let list = try await session.apoxy("backend", "list", "-o", "name")
            #expect(list.stdout.isEmpty)
        }
    }
}
