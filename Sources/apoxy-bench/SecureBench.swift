import ApoxyAPI
import ApoxyClient
import ApoxyServer
import Foundation
import NIOSSL

/// What a production deployment costs: create and GET over TLS with a bearer token and RBAC, next to plain HTTP
/// with no authentication, on two fresh servers measured alternately in one run. The secure user is not in
/// `system:masters`, so every request goes through token lookup and a real RBAC rule match.
enum SecureBench {
    static let benchUser = "bench-writer"

    static func run(serverBinary: String, workspace: URL, concurrency: Int, operations: Int) async throws -> SideBySide.Outcome {
        let folder = workspace.appendingPathComponent("secure")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let pki = try DevCertificates.prepare(in: folder.appendingPathComponent("pki").path, host: "127.0.0.1")
        let tokens = folder.appendingPathComponent("tokens.csv").path
        try DevCertificates.write(
            "admin-token,bench-admin,uid-admin,\"system:masters\"\nbench-token,\(benchUser),uid-bench\n", to: tokens, private: true)
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.trustRoots = .file(pki.caCertificate)

        return try await ServerRunner.with(
            binary: serverBinary, logPath: folder.appendingPathComponent("plain.log").path,
            arguments: ["--data-dir", folder.appendingPathComponent("plain").path]
        ) { plain in
            try await ServerRunner.with(
                binary: serverBinary, logPath: folder.appendingPathComponent("secure.log").path,
                arguments: [
                    "--data-dir", folder.appendingPathComponent("secure").path, "--tls-cert-file", pki.servingCertificate,
                    "--tls-private-key-file", pki.servingKey, "--token-auth-file", tokens, "--authorization-mode", "RBAC",
                ],
                tls: tls
            ) { secure in
                try await grant(port: secure.port, tls: tls)
                let plainClients = try await APIBench.connections(plain.port, concurrency)
                let secureClients = try await APIBench.connections(secure.port, concurrency, tls: tls)
                let outcome = try await SideBySide.createAndGet(
                    baseline: .init(label: "plain", clients: plainClients, pid: plain.pid),
                    candidate: .init(
                        label: "tls+token+rbac", clients: secureClients, headers: [("Authorization", "Bearer bench-token")],
                        pid: secure.pid),
                    concurrency: concurrency, operations: operations)
                for client in plainClients + secureClients { await client.close() }
                return outcome
            }
        }
    }

    /// As an admin: a ClusterRole allowing what the steps do on Backends, bound to the bench user; then waits until
    /// the authorizer's index (kept by watch) lets the user in.
    static func grant(port: Int, tls: TLSConfiguration) async throws {
        let admin = try await HTTPConnection.connect(host: "127.0.0.1", port: port, tls: tls)
        let headers = [("Authorization", "Bearer admin-token"), ("Content-Type", "application/json")]
        let role: JSONValue = [
            "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "metadata": ["name": "bench-writer"],
            "rules": [
                [
                    "apiGroups": ["core.apoxy.dev"], "resources": ["backends"],
                    "verbs": ["create", "get", "list", "update", "patch", "delete"],
                ]
            ],
        ]
        let binding: JSONValue = [
            "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding", "metadata": ["name": "bench-writer"],
            "roleRef": ["apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "bench-writer"],
            "subjects": [["apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": .string(benchUser)]],
        ]
        try APIBench.expect(
            try await admin.request("POST", ClusterRole.descriptor.collectionPath, headers: headers, body: role.serialized()),
            201, "create the bench ClusterRole")
        try APIBench.expect(
            try await admin.request(
                "POST", ClusterRoleBinding.descriptor.collectionPath, headers: headers, body: binding.serialized()),
            201, "create the bench ClusterRoleBinding")
        let deadline = ContinuousClock.now + .seconds(10)
        while ContinuousClock.now < deadline {
            let probe = try await admin.request("GET", collection, headers: [("Authorization", "Bearer bench-token")])
            if probe.status == 200 {
                await admin.close()
                return
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        throw BenchError(message: "the bench user's binding did not take effect within 10 s")
    }
}
