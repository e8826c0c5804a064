import ApoxyAPI
import ApoxyCLI
import ApoxyTestSupport
import ApoxyYAML
import Foundation
import Testing

/// Connection settings: kubeconfig files (contexts, tokens, merging), flags overriding them, and `apoxy version`.
@Suite("apoxy CLI: kubeconfig, version, help") struct KubeconfigTests {
    static func kubeconfig(current: String, live: String, dead: String) -> String {
        """
        apiVersion: v1
        kind: Config
        clusters:
        - name: live
          cluster: {server: "\(live)"}
        - name: dead
          cluster: {server: "\(dead)"}
        users:
        - name: alice
          user: {token: secret-token}
        contexts:
        - name: live
          context: {cluster: live, user: alice}
        - name: dead
          context: {cluster: dead, user: alice}
        current-context: \(current)
        """
    }

    @Test func contextsTokensAndOverrides() async throws {
        try await CLISession.with { session in
            #expect(try await session.apoxy("be", "create", "-f", "-", stdin: backendYAML("web")).status == 0)
            let dead = "http://127.0.0.1:\(try freePort())"
            let path = try session.write("config", Self.kubeconfig(current: "dead", live: session.url, dead: dead))

            // The current context points at nothing: cannot connect, and the message names its server.
            let viaDead = try await session.apoxyRaw(["backend", "list", "--kubeconfig", path])
            expectFailure(viaDead, 6, "dead current context")
            #expect(viaDead.stderr == "error: cannot connect to the server at \(dead): connection refused\n")

            // --context picks another; the token comes along.
            let viaLive = try await session.apoxyRaw(["backend", "list", "--kubeconfig", path, "--context", "live", "-o", "name"])
            #expect(viaLive.status == 0, "\(viaLive.stderr)")
            #expect(viaLive.stdout == "backend.core.apoxy.dev/web\n")

            // Switching current-context in the file switches the server; KUBECONFIG finds the file.
            try session.write("config", Self.kubeconfig(current: "live", live: session.url, dead: dead))
            let switched = try await session.apoxyRaw(["backend", "get", "web", "-o", "name"], environment: ["KUBECONFIG": path])
            #expect(switched.stdout == "backend.core.apoxy.dev/web\n", "\(switched.stderr)")
            let backToDead = try await session.apoxyRaw(["be", "list", "--context", "dead"], environment: ["KUBECONFIG": path])
            expectFailure(backToDead, 6, "--context dead")

            // KUBECONFIG lists several files: missing ones are skipped, the first to define a name wins.
            let other = try session.write("other", Self.kubeconfig(current: "dead", live: dead, dead: dead))
            let merged = try await session.apoxyRaw(
                ["be", "list", "-o", "name"], environment: ["KUBECONFIG": "\(session.directory.path)/missing:\(path):\(other)"])
            #expect(merged.stdout == "backend.core.apoxy.dev/web\n", "\(merged.stderr)")

            // Flags beat the kubeconfig: --server, --token.
            try session.write("config", Self.kubeconfig(current: "dead", live: session.url, dead: dead))
            let overridden = try await session.apoxyRaw(
                ["be", "list", "-o", "name", "--kubeconfig", path, "--server", session.url, "--token", "other-token"])
            #expect(overridden.stdout == "backend.core.apoxy.dev/web\n", "\(overridden.stderr)")
            let tokenOnly = try await session.apoxy("be", "list", "-o", "name", "--token", "t0ken")
            #expect(tokenOnly.status == 0, "\(tokenOnly.stderr)")

            // Without --kubeconfig and KUBECONFIG, ~/.kube/config is read, as kubectl reads it.
            let kubeDirectory = session.directory.appendingPathComponent(".kube")
            try FileManager.default.createDirectory(at: kubeDirectory, withIntermediateDirectories: true)
            try Self.kubeconfig(current: "live", live: session.url, dead: dead)
                .write(to: kubeDirectory.appendingPathComponent("config"), atomically: true, encoding: .utf8)
            let viaHome = try await session.apoxyRaw(["be", "list", "-o", "name"])
            #expect(viaHome.stdout == "backend.core.apoxy.dev/web\n", "\(viaHome.stderr)")
            let homeContext = try await session.apoxyRaw(["be", "list", "--context", "dead"])
            expectFailure(homeContext, 6, "--context dead from ~/.kube/config")
            try FileManager.default.removeItem(at: kubeDirectory)

            // Kubeconfig problems are bad input files.
            let missing = try await session.apoxyRaw(["be", "list", "--kubeconfig", "\(session.directory.path)/nope"])
            expectFailure(missing, 7, "missing --kubeconfig")
            #expect(missing.stderr == "error: kubeconfig \(session.directory.path)/nope: no such file\n")
            let noContext = try await session.apoxyRaw(["be", "list", "--kubeconfig", path, "--context", "staging"])
            expectFailure(noContext, 7, "unknown context")
            #expect(noContext.stderr == "error: context \"staging\" not found in kubeconfig\n")
            let broken = try session.write("broken", "clusters: [\n")
            let malformed = try await session.apoxyRaw(["be", "list", "--kubeconfig", broken])
            expectFailure(malformed, 7, "malformed kubeconfig")
            #expect(malformed.stderr.hasPrefix("error: kubeconfig \(broken): invalid YAML"), "\(malformed.stderr)")
        }
    }

    @Test func versionPrintsClientAndServer() async throws {
        try await CLISession.with { session in
            let text = try await session.apoxy("version")
            #expect(text.status == 0, "\(text.stderr)")
            #expect(text.stdout == "Client Version: v0.1.0\nServer Version: v1.37.0-apoxy.0.1.0\n")
            let json = try JSONValue.parse(try await session.apoxy("version", "-o", "json").stdout)
            #expect(json["clientVersion"]?["gitVersion"] == "v0.1.0")
            #expect(json["serverVersion"]?["gitVersion"] == "v1.37.0-apoxy.0.1.0")
            #expect(json["serverVersion"]?["major"] == "1")
            let yaml = try YAMLCoding.parseDocuments(try await session.apoxy("version", "-o", "yaml").stdout)
            #expect(yaml == [json])
            let clientOnly = try await runProcess(apoxyBinary, ["version", "--client"])
            #expect(clientOnly.stdout == "Client Version: v0.1.0\n")
            let clientJSON = try await runProcess(apoxyBinary, ["version", "--client", "-o", "json"])
            #expect(try JSONValue.parse(clientJSON.stdout) == ["clientVersion": ["gitVersion": "v0.1.0"]])
        }
    }

    @Test func helpExamplesAndCompletion() async throws {
        let root = try await runProcess(apoxyBinary, ["--help"])
        #expect(root.status == 0)
        for word in ["backend, be, backends", "version", "server", "--generate-completion-script", "Exit codes:"] {
            #expect(root.stdout.contains(word), "apoxy --help lacks \(word)")
        }
        let group = try await runProcess(apoxyBinary, ["backend", "--help"])
        #expect(group.status == 0)
        for word in [
            "Examples:", "Exit codes:", "--server <url>", "--kubeconfig <path>", "--token <token>",
            "--insecure-skip-tls-verify", "list, ls (default)", "apply", "edit", "watch",
        ] {
            #expect(group.stdout.contains(word), "apoxy backend --help lacks \(word): \(group.stdout)")
        }
        for command in ["list", "get", "create", "apply", "delete", "edit", "watch"] {
            let help = try await runProcess(apoxyBinary, ["be", command, "--help"])
            #expect(help.status == 0, "\(command)")
            #expect(help.stdout.contains("Examples:"), "apoxy be \(command) --help")
            #expect(help.stdout.contains("apoxy be") || help.stdout.contains("apoxy backend"), "apoxy be \(command) --help")
            #expect(help.stdout.contains("3  not found"), "apoxy be \(command) --help")
            #expect(help.stdout.contains("--server <url>"), "apoxy be \(command) --help")
        }
        let version = try await runProcess(apoxyBinary, ["version", "--help"])
        #expect(version.stdout.contains("Examples:"))
        for shell in ["bash", "zsh", "fish"] {
            let script = try await runProcess(apoxyBinary, ["--generate-completion-script", shell])
            #expect(script.status == 0, "\(shell)")
            #expect(script.stdout.contains("backend"), "\(shell)")
            #expect(script.stdout.contains("field-selector"), "\(shell)")
        }
    }
}
