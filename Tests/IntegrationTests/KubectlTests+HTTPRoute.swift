import ApoxyAPI
import ApoxyClient
import ApoxyTestSupport
import Foundation
import Testing

extension KubectlTests {
    static let routeManifest = """
        apiVersion: gateway.apoxy.dev/v1
        kind: HTTPRoute
        metadata:
          name: app
        spec:
          hostnames:
          - app.example.com
          - "*.example.com"
          rules:
          - matches:
            - path: {type: PathPrefix, value: /api}
              headers:
              - name: X-Env
                value: prod
              method: GET
            backendRefs:
            - name: my-backend
              port: 8080
            timeouts:
              request: 10s
        """

    @Test func httpRouteApplyGetExplainDelete() async throws {
        let session = try await Session.start()
        try await withCleanup {
            let file = try session.write("route.yaml", Self.routeManifest)

            let applied = try await session.kubectl("apply", "-f", file)
            #expect(applied.status == 0, "\(applied.stderr)")
            #expect(applied.stdout.contains("httproute.gateway.apoxy.dev/app created"))
            let catchAll = try await session.kubectl(
                "create", "-f", "-",
                stdin:
                    "apiVersion: gateway.apoxy.dev/v1\nkind: HTTPRoute\nmetadata: {name: catch-all}\nspec:\n  rules:\n  - backendRefs: [{name: fallback, port: 80}]\n"
            )
            #expect(catchAll.status == 0, "\(catchAll.stderr)")

            let table = try await session.kubectl("get", "httproutes")
            #expect(table.status == 0, "\(table.stderr)")
            let lines = table.stdout.split(separator: "\n").map {
                $0.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
            }
            #expect(lines.first == ["NAME", "HOSTNAMES", "AGE"])
            #expect(lines.dropFirst().map { Array($0.prefix(2)) } == [["app", "app.example.com,*.example.com"], ["catch-all", "*"]])

            let json = try await session.kubectl("get", "httproute", "app", "-o", "json")
            let object = try JSONValue.parse(json.stdout)
            let route = HTTPRoute(json: object)
            #expect(
                route.spec.rules[0].matches == [
                    HTTPRouteMatch(
                        path: HTTPPathMatch(value: "/api"), headers: [HTTPHeaderMatch(name: "X-Env", value: "prod")], method: "GET")
                ])
            #expect(route.spec.rules[0].backendRefs == [HTTPBackendRef(name: "my-backend", port: 8080, weight: 1)])
            #expect(route.spec.rules[0].timeouts == HTTPRouteTimeouts(request: "10s"))

            // A second apply after an edit patches the object and bumps its generation.
            _ = try session.write("route.yaml", Self.routeManifest.replacingOccurrences(of: "request: 10s", with: "request: 30s"))
            let reapplied = try await session.kubectl("apply", "-f", file)
            #expect(reapplied.status == 0, "\(reapplied.stderr)")
            #expect(reapplied.stdout.contains("httproute.gateway.apoxy.dev/app configured"))
            let generation = try await session.kubectl("get", "httproute", "app", "-o", "jsonpath={.metadata.generation}")
            #expect(generation.stdout == "2")

            let explained = try await session.kubectl("explain", "httproute.spec.rules")
            #expect(explained.status == 0, "\(explained.stderr)")
            #expect(explained.stdout.contains("backendRefs"))
            #expect(explained.stdout.contains("matches"))
            let explainedRef = try await session.kubectl("explain", "httproute.spec.rules.backendRefs.port")
            #expect(explainedRef.status == 0, "\(explainedRef.stderr)")
            #expect(explainedRef.stdout.contains("Port of the upstream"))

            let resources = try await session.kubectl("api-resources", "--api-group", "gateway.apoxy.dev")
            #expect(resources.stdout.contains("httproutes"))
            #expect(resources.stdout.contains("HTTPRoute"))

            let deleted = try await session.kubectl("delete", "-f", file)
            #expect(deleted.status == 0, "\(deleted.stderr)")
            #expect(deleted.stdout.contains("httproute.gateway.apoxy.dev \"app\" deleted"))
        } cleanup: {
            await session.stop()
        }
    }

    @Test func httpRouteServerSideApplyAndRefusedFields() async throws {
        let session = try await Session.start()
        try await withCleanup {
            let file = try session.write("route.yaml", Self.routeManifest)
            let applied = try await session.kubectl("apply", "--server-side", "-f", file)
            #expect(applied.status == 0, "\(applied.stderr)")
            #expect(applied.stdout.contains("serverside-applied"))

            let withParents = Self.routeManifest.replacingOccurrences(of: "spec:\n", with: "spec:\n  parentRefs:\n  - name: eg\n")
            _ = try session.write("route.yaml", withParents)
            let refused = try await session.kubectl("apply", "-f", file)
            #expect(refused.status != 0)
            #expect(refused.stderr.contains("spec.parentRefs: Forbidden: parentRefs is not supported"), "\(refused.stderr)")
            let refusedSSA = try await session.kubectl("apply", "--server-side", "-f", file)
            #expect(refusedSSA.status != 0)
            #expect(refusedSSA.stderr.contains("spec.parentRefs: Forbidden: parentRefs is not supported"), "\(refusedSSA.stderr)")
            let unknown = try await session.kubectl(
                "apply", "-f", "-", stdin: Self.routeManifest.replacingOccurrences(of: "  hostnames:", with: "  color: blue\n  hostnames:"))
            #expect(unknown.status != 0, "kubectl asks for strict field validation; unknown fields are rejected as for Backends")
            #expect(unknown.stderr.contains("unknown field \"spec.color\""), "\(unknown.stderr)")
        } cleanup: {
            await session.stop()
        }
    }
}
