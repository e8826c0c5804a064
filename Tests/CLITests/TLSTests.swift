import ApoxyAPI
import ApoxyTestSupport
import Foundation
import Testing

/// HTTPS through a real TLS terminator (NIOSSL, certificates made by `openssl` for the test) in front of the plain
/// server: CA and client certificate from a kubeconfig, hostname checks, and failures when trust is missing.
@Suite("apoxy CLI: TLS") struct TLSTests {
    /// A throwaway CA, a server certificate for 127.0.0.1 and localhost, and a client certificate, as PEM.
    struct Certificates {
        var ca: String
        var serverCertificate: String
        var serverKey: String
        var clientCertificate: String
        var clientKey: String
        /// A server certificate for the name apoxy.test only (no IP address).
        var namedCertificate: String
        var namedKey: String
    }

    static func makeCertificates(in directory: URL) async throws -> Certificates {
        let dir = directory.path
        try Data("subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n".utf8)
            .write(to: directory.appendingPathComponent("server.ext"))
        try Data("extendedKeyUsage=clientAuth\n".utf8).write(to: directory.appendingPathComponent("client.ext"))
        try Data("subjectAltName=DNS:apoxy.test\nextendedKeyUsage=serverAuth\n".utf8)
            .write(to: directory.appendingPathComponent("named.ext"))
        let ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
        let steps: [[String]] = [
            ["req", "-x509"] + ec + [
                "-keyout", "\(dir)/ca.key", "-out", "\(dir)/ca.pem", "-days", "2", "-subj", "/CN=apoxy-test-ca",
                "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign",
            ],
            ["req"] + ec + ["-keyout", "\(dir)/server.key", "-out", "\(dir)/server.csr", "-subj", "/CN=localhost"],
            [
                "x509", "-req", "-in", "\(dir)/server.csr", "-CA", "\(dir)/ca.pem", "-CAkey", "\(dir)/ca.key", "-CAcreateserial",
                "-out", "\(dir)/server.pem", "-days", "2", "-extfile", "\(dir)/server.ext",
            ],
            ["req"] + ec + ["-keyout", "\(dir)/client.key", "-out", "\(dir)/client.csr", "-subj", "/CN=apoxy-test-client"],
            [
                "x509", "-req", "-in", "\(dir)/client.csr", "-CA", "\(dir)/ca.pem", "-CAkey", "\(dir)/ca.key", "-CAcreateserial",
                "-out", "\(dir)/client.pem", "-days", "2", "-extfile", "\(dir)/client.ext",
            ],
            ["req"] + ec + ["-keyout", "\(dir)/named.key", "-out", "\(dir)/named.csr", "-subj", "/CN=apoxy.test"],
            [
                "x509", "-req", "-in", "\(dir)/named.csr", "-CA", "\(dir)/ca.pem", "-CAkey", "\(dir)/ca.key", "-CAcreateserial",
                "-out", "\(dir)/named.pem", "-days", "2", "-extfile", "\(dir)/named.ext",
            ],
        ]
        for step in steps {
            let result = try await runProcess("/usr/bin/openssl", step)
            guard result.status == 0 else { throw TestSetupError(message: "openssl \(step.joined(separator: " ")): \(result.stderr)") }
        }
        func read(_ name: String) throws -> String { try String(contentsOfFile: "\(dir)/\(name)", encoding: .utf8) }
        return Certificates(
            ca: try read("ca.pem"), serverCertificate: try read("server.pem"), serverKey: try read("server.key"),
            clientCertificate: try read("client.pem"), clientKey: try read("client.key"),
            namedCertificate: try read("named.pem"), namedKey: try read("named.key"))
    }

    static func base64(_ text: String) -> String { Data(text.utf8).base64EncodedString() }

    @Test func httpsWithKubeconfigCertificates() async throws {
        try await CLISession.with { session in
            let certificates = try await Self.makeCertificates(in: session.directory)
            let mutual = try await TLSTerminator.start(
                certificatePEM: certificates.serverCertificate, keyPEM: certificates.serverKey, clientCA: certificates.ca,
                backendPort: session.server.port)
            let plain = try await TLSTerminator.start(
                certificatePEM: certificates.serverCertificate, keyPEM: certificates.serverKey, clientCA: nil,
                backendPort: session.server.port)
            let named = try await TLSTerminator.start(
                certificatePEM: certificates.namedCertificate, keyPEM: certificates.namedKey, clientCA: nil,
                backendPort: session.server.port)
            do {
                try await run(session, certificates, mutual: mutual, plain: plain, named: named)
            } catch {
                for terminator in [mutual, plain, named] { await terminator.stop() }
                throw error
            }
            for terminator in [mutual, plain, named] { await terminator.stop() }
        }
    }

    func run(
        _ session: CLISession, _ certificates: Certificates, mutual: TLSTerminator, plain: TLSTerminator, named: TLSTerminator
    ) async throws {
        // Mutual TLS: the CA, the client certificate and key inline (base64), and a token.
        let inline = try session.write(
            "mtls.kubeconfig",
            """
            apiVersion: v1
            kind: Config
            clusters:
            - name: secure
              cluster:
                server: https://127.0.0.1:\(mutual.port)
                certificate-authority-data: \(Self.base64(certificates.ca))
            users:
            - name: admin
              user:
                token: tls-token
                client-certificate-data: \(Self.base64(certificates.clientCertificate))
                client-key-data: \(Self.base64(certificates.clientKey))
            contexts:
            - name: secure
              context: {cluster: secure, user: admin}
            current-context: secure
            """)
        let env = ["KUBECONFIG": inline]
        let created = try await session.apoxyRaw(["be", "create", "-f", "-"], stdin: backendYAML("web"), environment: env)
        #expect(created.status == 0, "\(created.stderr)")
        #expect(created.stdout == "backend.core.apoxy.dev/web created\n")
        let listed = try await session.apoxyRaw(["be", "list"], environment: env)
        #expect(listed.status == 0, "\(listed.stderr)")
        #expect(lines(listed.stdout).first == "NAME   ENDPOINTS   PROTOCOL   AGE")
        let version = try await session.apoxyRaw(["version"], environment: env)
        #expect(version.stdout == "Client Version: v0.1.0\nServer Version: v1.37.0-apoxy.0.1.0\n", "\(version.stderr)")
        let watched = try await session.apoxyRaw(["be", "watch", "-o", "name", "--timeout", "1"], environment: env)
        #expect(watched.stdout == "backend.core.apoxy.dev/web\n", "\(watched.stderr)")
        // The token reached the server side of the TLS connection with every request.
        #expect(mutual.seenTokens.count >= 4)
        #expect(Set(mutual.seenTokens) == ["tls-token"])

        // Without a client certificate the mutual-TLS endpoint refuses the handshake.
        let anonymous = try await session.apoxyRaw(
            ["be", "list", "--server", "https://127.0.0.1:\(mutual.port)", "--insecure-skip-tls-verify"])
        expectFailure(anonymous, 6, "no client certificate")
        #expect(
            anonymous.stderr.hasPrefix("error: cannot connect to the server at https://127.0.0.1:\(mutual.port): "), "\(anonymous.stderr)")

        // Server-only TLS, the CA as a file path relative to the kubeconfig, the host name checked against DNS SANs.
        try session.write("ca.crt", certificates.ca)
        let byFile = try session.write(
            "tls.kubeconfig",
            """
            clusters:
            - name: secure
              cluster: {server: "https://localhost:\(plain.port)", certificate-authority: ca.crt}
            contexts:
            - name: secure
              context: {cluster: secure}
            current-context: secure
            """)
        let viaName = try await session.apoxyRaw(["be", "get", "web", "-o", "name", "--kubeconfig", byFile])
        #expect(viaName.stdout == "backend.core.apoxy.dev/web\n", "\(viaName.stderr)")

        // A certificate nobody vouches for: exit 6 with the TLS reason, unless verification is skipped.
        let untrusted = try await session.apoxyRaw(["be", "list", "--server", "https://127.0.0.1:\(plain.port)"])
        expectFailure(untrusted, 6, "untrusted certificate")
        #expect(untrusted.stderr.contains("TLS handshake failed"), "\(untrusted.stderr)")
        let skipped = try await session.apoxyRaw(
            ["be", "list", "-o", "name", "--server", "https://127.0.0.1:\(plain.port)", "--insecure-skip-tls-verify"])
        #expect(skipped.stdout == "backend.core.apoxy.dev/web\n", "\(skipped.stderr)")

        // A certificate for a name only: reached by address, it needs tls-server-name, and a wrong one fails.
        func namedConfig(_ serverName: String?) throws -> String {
            try session.write(
                "named.kubeconfig",
                """
                clusters:
                - name: secure
                  cluster:
                    server: https://127.0.0.1:\(named.port)
                    certificate-authority: ca.crt
                \(serverName.map { "    tls-server-name: \($0)" } ?? "")
                contexts:
                - name: secure
                  context: {cluster: secure}
                current-context: secure
                """)
        }
        let withName = try await session.apoxyRaw(["be", "list", "-o", "name", "--kubeconfig", try namedConfig("apoxy.test")])
        #expect(withName.stdout == "backend.core.apoxy.dev/web\n", "\(withName.stderr)")
        for serverName in [nil, "other.example"] {
            let mismatch = try await session.apoxyRaw(["be", "list", "--kubeconfig", try namedConfig(serverName)])
            expectFailure(mismatch, 6, "server name \(serverName ?? "unset")")
            #expect(mismatch.stderr.contains("TLS handshake failed"), "\(mismatch.stderr)")
        }

        // A corrupt CA in the kubeconfig is a bad input file.
        let corrupt = try session.write(
            "corrupt.kubeconfig",
            """
            clusters:
            - name: secure
              cluster: {server: "https://127.0.0.1:\(plain.port)", certificate-authority-data: \(Self.base64("not a certificate"))}
            contexts:
            - name: secure
              context: {cluster: secure}
            current-context: secure
            """)
        let badCA = try await session.apoxyRaw(["be", "list", "--kubeconfig", corrupt])
        expectFailure(badCA, 7, "corrupt CA")
    }
}
