import ApoxyAPI
import ApoxyCLI
import ApoxyTestSupport
import ApoxyYAML
import Foundation
import Testing

/// `apoxy backend watch`: the current state, then changes as they happen, in each output format.
@Suite("apoxy CLI: watch") struct WatchTests {
    @Test func watchPrintsTableRowsForEachEvent() async throws {
        try await CLISession.with { session in
            #expect(try await session.apoxy("be", "create", "-f", "-", stdin: backendYAML("old")).status == 0)
            async let watched = session.apoxy("backend", "watch", "--output-watch-events", "--timeout", "8", timeout: .seconds(30))
            async let watchedOnly = session.apoxy("backend", "watch", "--watch-only", "-o", "name", "--timeout", "8", timeout: .seconds(30))
            async let watchedYAML = session.apoxy(
                "backend", "watch", "-o", "yaml", "--output-watch-events", "-l", "team=edge", "--timeout", "8", timeout: .seconds(30))
            try await waitForWatchers(3, port: session.server.port)
            let file = try session.write("web.yaml", backendYAML("web", labels: ["team": "edge"]))
            #expect(try await session.apoxy("be", "apply", "-f", file).status == 0)
            try session.write("web.yaml", backendYAML("web", protocol: "h2", labels: ["team": "edge"]))
            #expect(try await session.apoxy("be", "apply", "-f", file).status == 0)
            #expect(try await session.apoxy("be", "delete", "web").status == 0)

            // The table: the header once, then a row per event with its type.
            let table = try await watched
            #expect(table.status == 0, "\(table.stderr)")
            let rows = lines(table.stdout)
            #expect(rows.count == 5, "\(table.stdout)")
            // Widths come from the rows seen so far (a stream cannot know later ones); EVENT fits MODIFIED from the start.
            #expect(rows.first == "EVENT      NAME   ENDPOINTS   PROTOCOL   AGE", "\(table.stdout)")
            #expect(matches(rows[safe: 1], #"ADDED      old    10\.0\.0\.1    tls        [0-9]+s"#), "\(table.stdout)")
            #expect(matches(rows[safe: 2], #"ADDED      web    10\.0\.0\.1    tls        [0-9]+s"#), "\(table.stdout)")
            #expect(matches(rows[safe: 3], #"MODIFIED   web    10\.0\.0\.1    h2         [0-9]+s"#), "\(table.stdout)")
            #expect(matches(rows[safe: 4], #"DELETED    web    10\.0\.0\.1    h2         [0-9]+s"#), "\(table.stdout)")

            // --watch-only skips the existing object.
            let names = try await watchedOnly
            #expect(names.status == 0, "\(names.stderr)")
            #expect(names.stdout == "backend.core.apoxy.dev/web\nbackend.core.apoxy.dev/web\nbackend.core.apoxy.dev/web\n")

            // YAML events, filtered by label: whole WatchEvents as ---separated documents.
            let yaml = try await watchedYAML
            #expect(yaml.status == 0, "\(yaml.stderr)")
            let events = try YAMLCoding.parseDocuments(yaml.stdout)
            #expect(events.compactMap { $0["type"]?.stringValue } == ["ADDED", "MODIFIED", "DELETED"], "\(yaml.stdout)")
            #expect(events.compactMap { $0["object"]?["spec"]?["protocol"]?.stringValue } == ["tls", "h2", "h2"])
        }
    }

    @Test func watchJSONAndErrors() async throws {
        try await CLISession.with { session in
            #expect(try await session.apoxy("be", "create", "-f", "-", stdin: backendYAML("a") + "---\n" + backendYAML("b")).status == 0)
            // -o json: each object as a JSON document, one after the other.
            let json = try await session.apoxy("backend", "watch", "-o", "json", "--timeout", "1", timeout: .seconds(30))
            #expect(json.status == 0, "\(json.stderr)")
            let documents = json.stdout.components(separatedBy: "\n}\n").filter { !$0.isEmpty }.map { $0 + "\n}" }
            #expect(documents.count == 2, "\(json.stdout)")
            #expect(try documents.map { try JSONValue.parse($0)["metadata"]?["name"]?.stringValue } == ["a", "b"])
            // -o wide with --show-labels: the table rows with a LABELS column.
            let labelled = try await session.apoxy(
                "backend", "watch", "-o", "wide", "--show-labels", "--timeout", "1", timeout: .seconds(30))
            #expect(
                lines(labelled.stdout).first == "NAME   ENDPOINTS   PROTOCOL   PROPAGATION   HEALTHY   AGE   LABELS",
                "\(labelled.stdout)\(labelled.stderr)")
            #expect(lines(labelled.stdout).count == 3)
            #expect(lines(labelled.stdout).last?.hasSuffix("   <none>") == true)
            // A field selector the server rejects fails before any event.
            let bad = try await session.apoxy("backend", "watch", "--field-selector", "spec.endpoints=x", "--timeout", "1")
            expectFailure(bad, 5, "bad watch selector")
            #expect(bad.stderr.hasPrefix("Error from server (BadRequest): "), "\(bad.stderr)")
        }
    }
}
