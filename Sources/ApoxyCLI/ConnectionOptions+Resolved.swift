public import NIOSSL

/// An API server resolved from the connection flags and kubeconfig, for long-running clients outside the CLI's
/// own commands (`apoxy backplane`): where it is, how to trust it, and which credentials to present.
public struct ResolvedServer: Sendable {
    /// Host name or IP literal, without brackets.
    public var host: String
    /// TCP port.
    public var port: Int
    /// TLS settings for https (trusted CA, client certificate, verification); nil for plain http.
    public var tls: TLSConfiguration?
    /// SNI and certificate name when not `host` (kubeconfig's `tls-server-name`).
    public var serverName: String?
    /// Bearer token (`--token`, kubeconfig's `token` or `tokenFile`).
    public var bearerToken: String?
    /// `--request-timeout`: the deadline of each request but a watch; nil when not given (0).
    public var requestTimeout: Duration?
    /// The server address as text, for logs.
    public var description: String
}

extension ConnectionOptions {
    /// Resolves the flags and the kubeconfig exactly as the CLI's commands do (flags, then `--kubeconfig`,
    /// `KUBECONFIG` or `~/.kube/config`, then `http://127.0.0.1:8080`). A server URL with a path prefix is refused:
    /// the callers address the API at its root.
    public func resolveServer() throws(CLIError) -> ResolvedServer {
        let target = try resolve()
        guard target.url.pathPrefix.isEmpty else {
            throw .client(.badInput, "server \(target.url) has a path prefix; only https://host:port or http://host:port is supported here")
        }
        let tls = try APIClient(target: target).tlsConfiguration()
        return ResolvedServer(
            host: target.url.host, port: target.url.port, tls: tls,
            serverName: target.tls.serverName, bearerToken: target.token, requestTimeout: target.requestTimeout,
            description: target.url.description)
    }
}
