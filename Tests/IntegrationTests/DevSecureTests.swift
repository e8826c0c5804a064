import ApoxyAPI
import ApoxyClient
import ApoxyProcess
import ApoxyTestSupport
import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// `apoxy dev` (secure by default) end to end: generated certificates and admin kubeconfig, kubectl over TLS with it, and
/// the control plane's own least-privilege identity (it writes status; it cannot change a spec).
@Suite("apoxy dev, secure by default", .serialized)
struct DevSecureTests {
    static let envoyPath = packageRoot.appendingPathComponent(".venv/bin/envoy").path
    static var envoyAvailable: Bool { FileManager.default.isExecutableFile(atPath: envoyPath) }

    @Test(.timeLimit(.minutes(2)))
    func generatedKubeconfigAndALeastPrivilegeControlPlane() async throws {
        #expect(Self.envoyAvailable || !requireTools, "Envoy is missing at \(Self.envoyPath); scripts/install-tools.sh installs it")
        #expect(kubectlAvailable || !requireTools, "kubectl is missing at \(kubectlPath)")
        #expect(SecureServer.curlAvailable || !requireTools, "curl is missing")
        guard Self.envoyAvailable, kubectlAvailable, SecureServer.curlAvailable else { return }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("apoxy-dev-secure-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let data = directory.appendingPathComponent("data").path
        let api = try freePort()
        let logURL = directory.appendingPathComponent("dev.log")
        let dev = try await ChildProcess.spawn(
            "apoxy dev", executable: apoxyBinary,
            arguments: [
                "dev", "--data-dir", data, "--api-listen", "127.0.0.1:\(api)", "--xds-listen", "127.0.0.1:\(try freePort())",
                "--proxy-listen", "127.0.0.1:\(try freePort())", "--envoy-admin", "127.0.0.1:\(try freePort())", "--envoy", Self.envoyPath,
            ], logPath: logURL.path)
        try await withCleanup {
            let kubeconfig = "\(data)/kubeconfig"
            for _ in 0..<300 where !FileManager.default.fileExists(atPath: kubeconfig) && dev.isRunning {
                try await Task.sleep(for: .milliseconds(100))
            }
            try #require(FileManager.default.fileExists(atPath: kubeconfig), "no kubeconfig: \(dev.log)")

            func kubectl(_ arguments: [String], stdin: String? = nil) async throws -> ProcessResult {
                try await runProcess(
                    kubectlPath, arguments,
                    environment: [
                        "KUBECONFIG": kubeconfig, "HOME": directory.path, "KUBECACHEDIR": directory.appendingPathComponent("cache").path,
                    ],
                    stdin: stdin)
            }
            let whoami = try await kubectl(["auth", "whoami", "-o", "json"])
            let review = try JSONValue.parse(Array(whoami.stdout.utf8)).value
            #expect(review["status"]?["userInfo"]?["username"] == "apoxy-admin", "\(whoami.stderr)")
            #expect(review["status"]?["userInfo"]?["groups"] == ["system:masters", "system:authenticated"])
            let applied = try await kubectl(
                ["apply", "-f", "-"],
                stdin: """
                    apiVersion: core.apoxy.dev/v1alpha2
                    kind: Backend
                    metadata: {name: local}
                    spec:
                      protocol: ""
                      endpoints: [{ip: 127.0.0.1}]
                    """)
            #expect(applied.status == 0, "\(applied.stderr)")
            // The control plane (its own certificate, over HTTP/1.1) reads the Backend and writes its status.
            var accepted = false
            for _ in 0..<100 {
                let status = try await kubectl([
                    "get", "backend", "local", "-o", "jsonpath={.status.conditions[?(@.type==\"Accepted\")].status}",
                ])
                if status.stdout == "True" {
                    accepted = true
                    break
                }
                try await Task.sleep(for: .milliseconds(100))
            }
            #expect(accepted, "the control plane wrote no status: \(dev.log)")

            // Its identity may not change a spec, nor write anything else.
            let pki = "\(data)/pki"
            let spec = try await runProcess(
                "/usr/bin/curl",
                [
                    "-sS", "--http1.1", "--cacert", "\(pki)/ca.crt", "--cert", "\(pki)/control-plane.crt", "--key",
                    "\(pki)/control-plane.key",
                    "-X", "PATCH", "-H", "Content-Type: application/merge-patch+json", "-d", #"{"spec":{"protocol":"tls"}}"#,
                    "https://127.0.0.1:\(api)/apis/core.apoxy.dev/v1alpha2/backends/local",
                ])
            let refusal = try JSONValue.parse(Array(spec.stdout.utf8)).value
            #expect(
                refusal["message"]
                    == #"backends.core.apoxy.dev "local" is forbidden: User "system:apoxy:control-plane" cannot patch resource "backends" in API group "core.apoxy.dev" at the cluster scope"#
            )
            let create = try await runProcess(
                "/usr/bin/curl",
                [
                    "-sS", "-o", "/dev/null", "-w", "%{http_code}", "--cacert", "\(pki)/ca.crt", "--cert", "\(pki)/control-plane.crt",
                    "--key", "\(pki)/control-plane.key", "-X", "POST", "-H", "Content-Type: application/json", "-d", "{}",
                    "https://127.0.0.1:\(api)/apis/rbac.authorization.k8s.io/v1/clusterrolebindings",
                ])
            #expect(create.stdout == "403")
            // The kubeconfig's files are the admin's secrets.
            let attributes = try FileManager.default.attributesOfItem(atPath: kubeconfig)
            #expect((attributes[.posixPermissions] as? Int) == 0o600)
        } cleanup: {
            await dev.stop()
        }
    }
}
