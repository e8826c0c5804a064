import ApoxyAPI
import ApoxyTestSupport
import Foundation
import Testing

/// `apoxy route`: the same generic verbs as `apoxy backend`, on HTTPRoutes.
@Suite("apoxy CLI: route") struct RouteCommandTests {
    static func routeYAML(_ name: String, hostname: String, backend: String = "web") -> String {
        """
        apiVersion: gateway.apoxy.dev/v1
        kind: HTTPRoute
        metadata: {name: \(name)}
        spec:
          hostnames: [\(hostname)]
          rules:
          - backendRefs: [{kind: Backend, name: \(backend), port: 8080}]

        """
    }

    @Test func everyVerbWorksOnHTTPRoutes() async throws {
        try await CLISession.with { session in
            let file = try session.write("app.yaml", Self.routeYAML("app", hostname: "app.example.com"))
            let created = try await session.apoxy("route", "create", "-f", file)
            #expect(created.status == 0, "\(created.stderr)")
            #expect(created.stdout == "httproute.gateway.apoxy.dev/app created\n")
            expectFailure(try await session.apoxy("route", "create", "-f", file), 4, "create twice")

            let table = try await session.apoxy("route")
            #expect(
                lines(table.stdout).map { $0.split(separator: " ", omittingEmptySubsequences: true).prefix(2).joined(separator: " ") }
                    == ["NAME HOSTNAMES", "app app.example.com"], "\(table.stdout)")
            #expect(try await session.apoxy("httproute", "get", "app", "-o", "name").stdout == "httproute.gateway.apoxy.dev/app\n")

            // create, then apply of the edited file: no conflict with ourselves.
            try session.write("app.yaml", Self.routeYAML("app", hostname: "app2.example.com"))
            let applied = try await session.apoxy("routes", "apply", "-f", file)
            #expect(applied.stdout == "httproute.gateway.apoxy.dev/app configured\n", "\(applied.stderr)")
            let object = try JSONValue.parse(try await session.apoxy("route", "get", "app", "-o", "json").stdout)
            #expect(object["spec"]?["hostnames"] == ["app2.example.com"])
            #expect(object["kind"] == "HTTPRoute")

            // list -o yaml prints an HTTPRouteList; field selectors are the route's own (metadata.name).
            let listed = try await session.apoxy("route", "list", "-o", "json", "--field-selector", "metadata.name=app")
            #expect(try JSONValue.parse(listed.stdout)["kind"] == "HTTPRouteList")
            #expect(try JSONValue.parse(listed.stdout)["items"]?.arrayValue?.count == 1)
            // Backends are unaffected and separate.
            #expect(try await session.apoxy("backend", "list").stderr == "No resources found\n")

            let watched = try await session.apoxy("route", "watch", "-o", "name", "--timeout", "1")
            #expect(watched.stdout == "httproute.gateway.apoxy.dev/app\n", "\(watched.stderr)")

            let deleted = try await session.apoxy("route", "delete", "app")
            #expect(deleted.stdout == "httproute.gateway.apoxy.dev \"app\" deleted\n")
            expectFailure(try await session.apoxy("route", "get", "app"), 3, "deleted route")
            let help = try await session.apoxy("route", "--help")
            #expect(help.stdout.contains("Manage HTTPRoutes (gateway.apoxy.dev/v1)"))
        }
    }
}
