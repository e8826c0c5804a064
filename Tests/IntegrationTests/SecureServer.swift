import ApoxyAPI
import ApoxyTestSupport
import Foundation
import NIOSSL
import Testing

/// A real `apoxy server` over TLS with certificates made by `openssl` for the test (a CA, a serving certificate for
/// 127.0.0.1, client certificates), a token file, an audit log, and a kubeconfig with one context per user.
struct SecureServer {
    let server: ServerProcess
    let directory: URL
    let kubeconfig: String

    var port: Int { server.port }
    var url: String { "https://127.0.0.1:\(server.port)" }
    var caPath: String { directory.appendingPathComponent("ca.pem").path }
    var auditPath: String { directory.appendingPathComponent("audit.log").path }

    /// Users of the token file: `admin` is in system:masters, the others only in what RBAC grants.
    static let tokens = """
        admin-token,admin,uid-admin,"system:masters,ops"
        reader-token,reader,uid-reader
        nobody-token,nobody,uid-nobody,
        status-token,statuswriter,uid-status,writers
        """

    static var opensslAvailable: Bool { FileManager.default.isExecutableFile(atPath: "/usr/bin/openssl") }
    static var curlAvailable: Bool { FileManager.default.isExecutableFile(atPath: "/usr/bin/curl") }

    /// Starts the server with the test's TLS files, token file and audit log, plus `arguments`.
    static func start(_ arguments: [String] = []) async throws -> SecureServer {
        #expect(opensslAvailable && curlAvailable, "openssl and curl are needed; scripts/install-tools.sh installs openssl")
        try #require(opensslAvailable && curlAvailable)
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("apoxy-auth-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try await makeCertificates(in: directory)
        let dir = directory.path
        try tokens.write(toFile: "\(dir)/tokens.csv", atomically: true, encoding: .utf8)
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.trustRoots = .file("\(dir)/ca.pem")
        let server = try await ServerProcess.start(
            dataDir: "\(dir)/data",
            arguments: [
                "--tls-cert-file", "\(dir)/server.pem", "--tls-private-key-file", "\(dir)/server.key",
                "--client-ca-file", "\(dir)/ca.pem", "--token-auth-file", "\(dir)/tokens.csv",
                "--audit-log-path", "\(dir)/audit.log",
            ] + arguments,
            tls: tls)
        let kubeconfig = "\(dir)/kubeconfig"
        try """
        apiVersion: v1
        kind: Config
        clusters:
        - name: apoxy
          cluster: {server: "https://127.0.0.1:\(server.port)", certificate-authority: "\(dir)/ca.pem"}
        contexts:
        - {name: admin, context: {cluster: apoxy, user: admin}}
        - {name: reader, context: {cluster: apoxy, user: reader}}
        - {name: nobody, context: {cluster: apoxy, user: nobody}}
        - {name: status, context: {cluster: apoxy, user: status}}
        - {name: alice, context: {cluster: apoxy, user: alice}}
        - {name: root, context: {cluster: apoxy, user: root}}
        - {name: anonymous, context: {cluster: apoxy, user: anonymous}}
        - {name: wrong, context: {cluster: apoxy, user: wrong}}
        current-context: admin
        users:
        - {name: admin, user: {token: admin-token}}
        - {name: reader, user: {token: reader-token}}
        - {name: nobody, user: {token: nobody-token}}
        - {name: status, user: {token: status-token}}
        - {name: alice, user: {client-certificate: "\(dir)/alice.pem", client-key: "\(dir)/alice.key"}}
        - {name: root, user: {client-certificate: "\(dir)/root.pem", client-key: "\(dir)/root.key"}}
        - {name: anonymous, user: {}}
        - {name: wrong, user: {token: not-a-token}}
        """.write(toFile: kubeconfig, atomically: true, encoding: .utf8)
        return SecureServer(server: server, directory: directory, kubeconfig: kubeconfig)
    }

    /// A CA; a serving certificate for 127.0.0.1; client certificates `alice` (O=devs, O=qa) and `root`
    /// (O=system:masters); and `mallory`, signed by another CA.
    static func makeCertificates(in directory: URL) async throws {
        let dir = directory.path
        try Data("subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n".utf8)
            .write(to: directory.appendingPathComponent("server.ext"))
        try Data("extendedKeyUsage=clientAuth\n".utf8).write(to: directory.appendingPathComponent("client.ext"))
        let ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
        func ca(_ name: String) -> [String] {
            ["req", "-x509"] + ec + [
                "-keyout", "\(dir)/\(name).key", "-out", "\(dir)/\(name).pem", "-days", "2", "-subj", "/CN=\(name)",
                "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign",
            ]
        }
        func leaf(_ name: String, subject: String, ext: String, signer: String = "ca") -> [[String]] {
            [
                ["req"] + ec + ["-keyout", "\(dir)/\(name).key", "-out", "\(dir)/\(name).csr", "-subj", subject],
                [
                    "x509", "-req", "-in", "\(dir)/\(name).csr", "-CA", "\(dir)/\(signer).pem", "-CAkey", "\(dir)/\(signer).key",
                    "-CAcreateserial", "-out", "\(dir)/\(name).pem", "-days", "2", "-extfile", "\(dir)/\(ext).ext",
                ],
            ]
        }
        var steps = [ca("ca"), ca("other-ca")]
        steps += leaf("server", subject: "/CN=localhost", ext: "server")
        steps += leaf("alice", subject: "/O=devs/O=qa/CN=alice", ext: "client")
        steps += leaf("root", subject: "/O=system:masters/CN=root", ext: "client")
        steps += leaf("mallory", subject: "/O=system:masters/CN=mallory", ext: "client", signer: "other-ca")
        for step in steps {
            let result = try await runProcess("/usr/bin/openssl", step)
            guard result.status == 0 else { throw TestSetupError(message: "openssl \(step.joined(separator: " ")): \(result.stderr)") }
        }
    }

    /// kubectl as the user of `context`.
    func kubectl(_ context: String, _ arguments: [String], stdin: String? = nil) async throws -> ProcessResult {
        try await runProcess(
            kubectlPath, ["--context", context] + arguments,
            environment: [
                "KUBECONFIG": kubeconfig, "KUBECACHEDIR": directory.appendingPathComponent("cache-\(context)").path,
                "HOME": directory.path,
            ],
            stdin: stdin, timeout: .seconds(60))
    }

    /// curl with the test CA; returns the body followed by the `-w` output on its own line.
    func curl(_ arguments: [String], timeout: Duration = .seconds(30)) async throws -> ProcessResult {
        try await runProcess("/usr/bin/curl", ["-sS", "--cacert", caPath] + arguments, timeout: timeout)
    }

    /// One request with curl: (HTTP status, body as JSON or null, the HTTP version).
    func request(
        _ method: String, _ path: String, token: String? = nil, body: String? = nil, contentType: String = "application/json",
        extra: [String] = []
    ) async throws -> (status: Int, body: JSONValue, version: String) {
        var arguments = ["-X", method, "-w", "\n%{http_code} %{http_version}", "--http2"] + extra
        if let token { arguments += ["-H", "Authorization: Bearer \(token)"] }
        if let body { arguments += ["-H", "Content-Type: \(contentType)", "--data-binary", body] }
        let result = try await curl(arguments + [url + path])
        let lines = result.stdout.split(separator: "\n", omittingEmptySubsequences: false)
        let last = lines.last.map(String.init) ?? ""
        let parts = last.split(separator: " ")
        let text = lines.dropLast().joined(separator: "\n")
        let json = (try? JSONValue.parse(Array(text.utf8)).value) ?? .null
        return (Int(parts.first ?? "") ?? 0, json, parts.count > 1 ? String(parts[1]) : "")
    }

    /// The audit events written so far.
    func auditEvents() throws -> [JSONValue] {
        let text = (try? String(contentsOfFile: auditPath, encoding: .utf8)) ?? ""
        return try text.split(separator: "\n").map { try JSONValue.parse(Array($0.utf8)).value }
    }

    func stop() async {
        await server.stop()
        try? FileManager.default.removeItem(at: directory)
    }
}
