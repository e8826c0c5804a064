import ApoxyServer
public import ArgumentParser
import Foundation
import Logging

extension TLSMinimumVersion: ExpressibleByArgument {}
extension AuthorizationMode: ExpressibleByArgument {}

/// kube-apiserver's serving flags, with its names and formats.
struct SecurityOptions: ParsableArguments {
    @Option(help: "PEM certificate (chain) to serve HTTPS with (HTTP/2 by ALPN, HTTP/1.1 fallback).")
    var tlsCertFile: String?

    @Option(help: "PEM private key of --tls-cert-file.")
    var tlsPrivateKeyFile: String?

    @Option(help: "PEM CA bundle: client certificates it signs authenticate as CN (user) and O (groups).")
    var clientCAFile: String?

    @Option(help: "Oldest TLS version accepted: VersionTLS12 or VersionTLS13.")
    var tlsMinVersion: TLSMinimumVersion = .tls12

    @Option(help: "Static bearer tokens, kube's CSV: token,user,uid,\"group1,group2\" (groups optional).")
    var tokenAuthFile: String?

    @Option(help: "Serve requests without credentials as system:anonymous (group system:unauthenticated): true or false.")
    var anonymousAuth = true

    @Option(help: "AlwaysAllow or RBAC (default: RBAC when --token-auth-file or --client-ca-file is given, else AlwaysAllow).")
    var authorizationMode: AuthorizationMode?

    @Option(help: "Write one audit.k8s.io/v1 Event JSON line per request to this file (- for stdout).")
    var auditLogPath: String?

    func validate() throws {
        try Self.requireTogether([("--tls-cert-file", tlsCertFile), ("--tls-private-key-file", tlsPrivateKeyFile)])
        try Self.requireReadable([
            ("--tls-cert-file", tlsCertFile), ("--tls-private-key-file", tlsPrivateKeyFile), ("--client-ca-file", clientCAFile),
            ("--token-auth-file", tokenAuthFile),
        ])
    }

    /// Refuses a set of file flags of which only some are given.
    static func requireTogether(_ flags: [(flag: String, value: String?)]) throws {
        guard flags.contains(where: { $0.value == nil }), flags.contains(where: { $0.value != nil }) else { return }
        let names = flags.map(\.flag)
        throw ValidationError("\(names.dropLast().joined(separator: ", ")) and \(names.last!) must be given together")
    }

    /// Refuses a given file flag whose file cannot be read.
    static func requireReadable(_ flags: [(flag: String, path: String?)]) throws {
        for (flag, path) in flags {
            if let path, !FileManager.default.isReadableFile(atPath: path) {
                throw ValidationError("\(flag) \(path) cannot be read")
            }
        }
    }

    /// The TLS setting for a server on `host`: the given certificate; else, off loopback, a self-signed one in
    /// `dataDir` (plain HTTP is for loopback only); else none.
    func servingTLS(host: String, dataDir: String, logger: Logger) throws -> ServingTLS? {
        if let tlsCertFile, let tlsPrivateKeyFile {
            return ServingTLS(
                certificateFile: tlsCertFile, privateKeyFile: tlsPrivateKeyFile, clientCAFile: clientCAFile, minimumVersion: tlsMinVersion)
        }
        guard !ServingTLS.isLoopback(host) || clientCAFile != nil else { return nil }
        let generated = try ServingTLS.selfSigned(in: dataDir, host: host, logger: logger)
        return ServingTLS(
            certificateFile: generated.certificate, privateKeyFile: generated.key, clientCAFile: clientCAFile, minimumVersion: tlsMinVersion
        )
    }
}

extension SecurityOptions {
    /// The server configuration these flags describe for a server on `host:port`.
    func configuration(host: String, port: Int, dataDir: String, logger: Logger) throws -> APIServerConfiguration {
        var authenticators: [any Authenticator] = []
        if clientCAFile != nil { authenticators.append(ClientCertificateAuthenticator()) }
        if let tokenAuthFile {
            let text = try String(contentsOfFile: tokenAuthFile, encoding: .utf8)
            let users: [String: UserInfo]
            do {
                users = try TokenFile.parse(text)
            } catch {
                throw ValidationError("--token-auth-file \(tokenAuthFile): \(error)")
            }
            authenticators.append(TokenFileAuthenticator(users: users))
        }
        let mode = authorizationMode ?? (authenticators.isEmpty ? .alwaysAllow : .rbac)
        return APIServerConfiguration(
            host: host, port: port, tls: try servingTLS(host: host, dataDir: dataDir, logger: logger),
            authentication: AuthenticationConfiguration(authenticators: authenticators, anonymous: anonymousAuth),
            authorizationMode: mode, auditLog: try auditLogPath.map { try AuditLog(path: $0) })
    }
}
