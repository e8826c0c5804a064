import ApoxyAPI
import ApoxyCLI
import ApoxyClient
import ApoxyTestSupport
import ApoxyYAML
import Foundation
import Testing

/// `apoxy backend list` and `get` in every output format, with selectors, aliases and the default subcommand.
@Suite("apoxy CLI: list and get") struct ReadCommandTests {
    @Test func describePrintsMetadataSpecInWordsWithoutManagedFields() async throws {
        try await CLISession.with { session in
            let file = try session.write(
                "web.yaml",
                backendYAML("web", endpoints: ["ip: 10.0.0.1", "fqdn: api.example.com"], labels: ["team": "edge", "tier": "web"]))
            #expect(try await session.apoxy("be", "create", "-f", file).status == 0)
            let described = try await session.apoxy("backend", "describe", "web")
            #expect(described.status == 0, "\(described.stderr)")
            let text = lines(described.stdout)
            #expect(
                Array(text.prefix(7)) == [
                    "Name:         web", "Labels:       team=edge", "              tier=web", "Annotations:  <none>",
                    "API Version:  core.apoxy.dev/v1alpha2", "Kind:         Backend", "Metadata:",
                ], "\(described.stdout)")
            #expect(text.contains("  Generation:          1"), "\(described.stdout)")
            #expect(
                text.contains("Spec:") && text.contains("    IP:  10.0.0.1") && text.contains("    FQDN:  api.example.com"),
                "\(described.stdout)")
            #expect(text.contains { $0.hasPrefix("  Protocol:") && $0.hasSuffix(" tls") }, "\(described.stdout)")
            #expect(!described.stdout.contains("Managed Fields"))
            #expect(text.last == "Events:  <none>", "\(described.stdout)")
            expectFailure(try await session.apoxy("be", "describe", "nope"), 3, "describe a missing Backend")

            // Events about this Backend (by uid) follow, oldest first; one about another object does not.
            let uid =
                try JSONValue.parse(Array(try await session.apoxy("be", "get", "web", "-o", "json").stdout.utf8)).value[
                    "metadata"]?["uid"]?.stringValue ?? ""
            let connection = try await HTTPConnection.connect(host: "127.0.0.1", port: session.server.port)
            for (name, object, reason, time, count) in [
                ("web.2", uid, "Rejected", "2026-01-01T00:05:00Z", 3), ("web.1", uid, "Programmed", "2026-01-01T00:00:00Z", 1),
                ("other", "another-uid", "Elsewhere", "2026-01-01T00:00:00Z", 1),
            ] {
                let event: JSONValue = [
                    "apiVersion": "v1", "kind": "Event", "metadata": ["name": .string(name)],
                    "involvedObject": ["apiVersion": "core.apoxy.dev/v1alpha2", "kind": "Backend", "name": "web", "uid": .string(object)],
                    "reason": .string(reason), "message": .string("\(reason) message"), "type": "Normal", "source": ["component": "test"],
                    "firstTimestamp": "2026-01-01T00:00:00Z", "lastTimestamp": .string(time), "count": .integer(Int64(count)),
                ]
                let response = try await connection.request(
                    "POST", "/api/v1/namespaces/default/events", headers: [("Content-Type", "application/json")], body: event.serialized())
                #expect(response.status == 201, "\(response.text)")
            }
            await connection.close()
            let withEvents = lines(try await session.apoxy("backend", "describe", "web").stdout)
            let block = Array(withEvents.drop { $0 != "Events:" })
            #expect(block.count == 5, "\(withEvents)")
            #expect(
                block.dropFirst().first?.split(separator: " ", omittingEmptySubsequences: true) == [
                    "Type", "Reason", "Age", "From", "Message",
                ])
            #expect(block.dropFirst(3).first?.contains("Programmed") == true && block.last?.contains("Rejected") == true, "\(block)")
            #expect(block.last?.contains("(x3 over ") == true && block.last?.hasSuffix("  test  Rejected message") == true, "\(block)")
        }
    }

    @Test func createThenGetInEveryFormat() async throws {
        try await CLISession.with { session in
            let file = try session.write(
                "web.yaml",
                backendYAML("web", endpoints: ["ip: 10.0.0.1", "fqdn: api.example.com"], labels: ["team": "edge"]))
            let created = try await session.apoxy("backend", "create", "-f", file)
            #expect(created.status == 0, "\(created.stderr)")
            #expect(created.stdout == "backend.core.apoxy.dev/web created\n")

            // -o json: the stored object, without managedFields unless asked.
            let json = try await session.apoxy("backend", "get", "web", "-o", "json")
            #expect(json.status == 0, "\(json.stderr)")
            let object = try JSONValue.parse(json.stdout)
            #expect(object["kind"] == "Backend")
            #expect(object["apiVersion"] == "core.apoxy.dev/v1alpha2")
            #expect(object["metadata"]?["name"] == "web")
            #expect(object["metadata"]?["labels"] == ["team": "edge"])
            #expect(object["metadata"]?["managedFields"] == nil)
            #expect(object["spec"]?["endpoints"] == [["ip": "10.0.0.1"], ["fqdn": "api.example.com"]])
            #expect(object["spec"]?["protocol"] == "tls")
            let withManaged = try JSONValue.parse(try await session.apoxy("be", "get", "web", "-o", "json", "--show-managed-fields").stdout)
            #expect(withManaged["metadata"]?["managedFields"]?[0]?["manager"] == "apoxy-cli")

            // -o yaml parses to the same document.
            let yaml = try await session.apoxy("backend", "get", "web", "-o", "yaml")
            #expect(yaml.status == 0, "\(yaml.stderr)")
            #expect(yaml.stdout.hasPrefix("apiVersion: core.apoxy.dev/v1alpha2\nkind: Backend\nmetadata:\n"))
            // Strings YAML would misread stay quoted: the timestamp, the numeric resourceVersion.
            #expect(yaml.stdout.contains("creationTimestamp: '"))
            #expect(yaml.stdout.contains("resourceVersion: '"))
            #expect(try YAMLCoding.parseDocuments(yaml.stdout) == [object])

            // -o name
            let name = try await session.apoxy("backend", "get", "web", "-o", "name")
            #expect(name.stdout == "backend.core.apoxy.dev/web\n")

            // The default table: header and one row, aligned as kubectl aligns them.
            let table = try await session.apoxy("backend", "get", "web")
            #expect(table.status == 0, "\(table.stderr)")
            let tableLines = lines(table.stdout)
            #expect(tableLines.count == 2)
            #expect(tableLines.first == "NAME   ENDPOINTS                  PROTOCOL   AGE")
            #expect(matches(tableLines.last ?? "", #"web    10\.0\.0\.1,api\.example\.com   tls        [0-9]+s"#), "\(table.stdout)")

            // -o wide adds the column the server marks as extra (PROPAGATION and HEALTHY, <none> until written); --show-labels
            // adds LABELS.
            let wide = try await session.apoxy("backend", "get", "web", "-o", "wide")
            #expect(lines(wide.stdout).first == "NAME   ENDPOINTS                  PROTOCOL   PROPAGATION   HEALTHY   AGE")
            #expect(
                matches(
                    lines(wide.stdout).last ?? "", #"web    10\.0\.0\.1,api\.example\.com   tls        <none>        <none>    [0-9]+s"#),
                "\(wide.stdout)")
            let labelled = try await session.apoxy("backend", "get", "web", "--show-labels")
            #expect(lines(labelled.stdout).first == "NAME   ENDPOINTS                  PROTOCOL   AGE   LABELS")
            #expect(matches(lines(labelled.stdout).last ?? "", #"web    10\.0\.0\.1,api\.example\.com   tls        [0-9]+s +team=edge"#))
        }
    }

    @Test func listFormatsSelectorsAliasesAndDefault() async throws {
        try await CLISession.with { session in
            // An empty list says so on stderr, with nothing on stdout and success.
            let empty = try await session.apoxy("backend", "list")
            #expect(empty.status == 0)
            #expect(empty.stdout.isEmpty)
            #expect(empty.stderr == "No resources found\n")

            // Several documents in one file, and a JSON document on stdin.
            let file = try session.write(
                "two.yaml",
                backendYAML("web", labels: ["team": "edge", "tier": "front"]) + "---\n"
                    + backendYAML("api-gateway", endpoints: ["fqdn: gw.example.com"], protocol: "h2", labels: ["team": "core"]))
            let created = try await session.apoxy("backend", "create", "-f", file)
            #expect(created.status == 0, "\(created.stderr)")
            #expect(created.stdout == "backend.core.apoxy.dev/web created\nbackend.core.apoxy.dev/api-gateway created\n")
            let json =
                #"{"apiVersion":"core.apoxy.dev/v1alpha2","kind":"Backend","metadata":{"name":"db"},"spec":{"endpoints":[{"ip":"10.0.0.3"}],"protocol":""}}"#
            let fromStdin = try await session.apoxy("backend", "create", "-f", "-", stdin: json)
            #expect(fromStdin.stdout == "backend.core.apoxy.dev/db created\n", "\(fromStdin.stderr)")

            // The table: sorted by name, columns as wide as their widest cell plus three spaces.
            let table = try await session.apoxy("backend", "list")
            #expect(table.status == 0, "\(table.stderr)")
            let rows = lines(table.stdout)
            #expect(rows.count == 4, "\(table.stdout)")
            #expect(rows.first == "NAME          ENDPOINTS        PROTOCOL   AGE")
            #expect(matches(rows[safe: 1], #"api-gateway   gw\.example\.com   h2         [0-9]+s"#), "\(table.stdout)")
            #expect(matches(rows[safe: 2], #"db            10\.0\.0\.3         +[0-9]+s"#), "\(table.stdout)")
            #expect(matches(rows[safe: 3], #"web           10\.0\.0\.1         tls        [0-9]+s"#), "\(table.stdout)")

            // The aliases and the default subcommand print the same table.
            for arguments in [["be"], ["backends"], ["backend"], ["be", "ls"]] {
                let other = try await session.apoxyRaw(arguments + ["--server", session.url])
                #expect(lines(other.stdout).first == rows.first, "\(arguments): \(other.stderr)")
                #expect(lines(other.stdout).count == 4, "\(arguments)")
            }
            // Connection options before the subcommand work too.
            let before = try await session.apoxyRaw(["backend", "--server", session.url, "list", "-o", "name"])
            #expect(
                before.stdout == "backend.core.apoxy.dev/api-gateway\nbackend.core.apoxy.dev/db\nbackend.core.apoxy.dev/web\n",
                "\(before.stderr)")

            // -o json and -o yaml: the BackendList.
            let listJSON = try JSONValue.parse(try await session.apoxy("backend", "list", "-o", "json").stdout)
            #expect(listJSON["kind"] == "BackendList")
            #expect(listJSON["items"]?.arrayValue?.compactMap { $0["metadata"]?["name"]?.stringValue } == ["api-gateway", "db", "web"])
            #expect(listJSON["items"]?[0]?["metadata"]?["managedFields"] == nil)
            let managed = try JSONValue.parse(try await session.apoxy("backend", "list", "-o", "json", "--show-managed-fields").stdout)
            #expect(managed["items"]?[0]?["metadata"]?["managedFields"]?[0]?["manager"] == "apoxy-cli")
            let listYAML = try await session.apoxy("backend", "list", "-o", "yaml")
            let parsed = try YAMLCoding.parseDocuments(listYAML.stdout)
            #expect(parsed.count == 1)
            #expect(parsed.first?["items"] == listJSON["items"])

            // --chunk-size (kubectl's, 500 by default): pages of one object read the same list as one response.
            func lists() async throws -> Double {
                metricSum(
                    "apiserver_request_total", labels: [#"verb="LIST""#, #"resource="backends""#],
                    in: try await metrics(port: session.server.port))
            }
            let listsBefore = try await lists()
            let pagedNames = try await session.apoxy("backend", "list", "-o", "name", "--chunk-size", "1")
            #expect(try await lists() - listsBefore == 3, "three pages of one")
            #expect(pagedNames.stdout == before.stdout, "\(pagedNames.stderr)")
            let pagedJSON = try await session.apoxy("backend", "list", "-o", "json", "--chunk-size", "1")
            let wholeJSON = try await session.apoxy("backend", "list", "-o", "json", "--chunk-size", "0")
            #expect(pagedJSON.stdout == wholeJSON.stdout, "the joined pages carry no continue token")
            let pagedTable = try await session.apoxy("backend", "list", "--chunk-size", "2")
            #expect(lines(pagedTable.stdout).map { $0.prefix(14) } == rows.map { $0.prefix(14) }, "\(pagedTable.stdout)")

            // -o wide and --show-labels.
            let wide = try await session.apoxy("backend", "list", "-o", "wide", "--show-labels")
            let wideRows = lines(wide.stdout)
            #expect(wideRows.first == "NAME          ENDPOINTS        PROTOCOL   PROPAGATION   HEALTHY   AGE   LABELS")
            #expect(wideRows.last?.hasSuffix("   team=edge,tier=front") == true, "\(wide.stdout)")
            #expect(wideRows[safe: 2].hasSuffix("   <none>"))

            // Label and field selectors.
            let edge = try await session.apoxy("backend", "list", "-l", "team=edge", "-o", "name")
            #expect(edge.stdout == "backend.core.apoxy.dev/web\n", "\(edge.stderr)")
            let notEdge = try await session.apoxy("backend", "list", "--selector", "team,team!=edge", "-o", "name")
            #expect(notEdge.stdout == "backend.core.apoxy.dev/api-gateway\n", "\(notEdge.stderr)")
            let inSet = try await session.apoxy("backend", "list", "-l", "team in (core,edge)", "-o", "name")
            #expect(lines(inSet.stdout).count == 2, "\(inSet.stderr)")
            let h2 = try await session.apoxy("backend", "list", "--field-selector", "spec.protocol=h2", "-o", "name")
            #expect(h2.stdout == "backend.core.apoxy.dev/api-gateway\n", "\(h2.stderr)")
            let byName = try await session.apoxy("backend", "list", "--field-selector", "metadata.name=db")
            #expect(lines(byName.stdout).count == 2)
            let none = try await session.apoxy("backend", "list", "-l", "team=nobody")
            #expect(none.status == 0)
            #expect(none.stderr == "No resources found\n")

            // A reader that stops early (`| head`) ends the command quietly, with no crash report.
            var many: [String] = []
            for i in 0..<300 { many.append(backendYAML("bulk-\(i)", endpoints: ["fqdn: bulk-\(i).example.com"])) }
            #expect(try await session.apoxy("be", "create", "-f", "-", "-o", "name", stdin: many.joined(separator: "---\n")).status == 0)
            let piped = try await runProcess(
                "/bin/bash",
                ["-c", "\"$0\" be list -o json --server \(session.url) | head -1; echo \"status=${PIPESTATUS[0]}\"", apoxyBinary],
                environment: session.baseEnvironment)
            // 300 objects as JSON are well over a pipe's 64 KiB, so the write after `head` exits meets EPIPE.
            #expect(piped.stdout == "{\nstatus=141\n", "\(piped.stdout)\(piped.stderr)")
            #expect(piped.stderr.isEmpty, "\(piped.stderr)")

            // A selector the server rejects is an invalid request.
            let bad = try await session.apoxy("backend", "list", "--field-selector", "spec.endpoints=x")
            expectFailure(bad, 5, "unsupported field selector")
            #expect(bad.stderr.hasPrefix("Error from server (BadRequest): "), "\(bad.stderr)")
        }
    }
}
