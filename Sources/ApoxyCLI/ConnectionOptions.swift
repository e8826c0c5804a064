import ApoxyAPI
public import ArgumentParser
import Foundation

/// The flags that say which server to talk to and how; shared by every client command.
public struct ConnectionOptions: ParsableArguments, Sendable {
    @Option(
        help: ArgumentHelp(
            "API server URL (http:// or https://; default: the kubeconfig's, else http://127.0.0.1:8080).",
            valueName: "url"))
    var server: String?

    @Option(help: ArgumentHelp("Bearer token sent in the Authorization header.", valueName: "token"))
    var token: String?

    @Option(
        help: ArgumentHelp(
            "Path to a kubeconfig file (default: $KUBECONFIG, else ~/.kube/config, as kubectl).", valueName: "path"),
        completion: .file())
    var kubeconfig: String?

    @Option(help: ArgumentHelp("Kubeconfig context to use instead of its current-context.", valueName: "name"))
    var context: String?

    @Flag(help: "Do not verify the server's TLS certificate (insecure; for testing only).")
    var insecureSkipTLSVerify = false

    @Option(
        help: ArgumentHelp(
            "How long to wait for one request before giving up, as kubectl's flag: a duration (30s, 2m) or whole seconds; 0 waits without limit (apoxy backplane: its own limits, 30s a write and 60s a list page). A watch is not cut by it.",
            valueName: "duration"))
    var requestTimeout = "0"

    /// Creates the options with every flag at its default.
    public init() {}

    /// Rejects a `--server` that is not an http(s) URL, as a usage error.
    public func validate() throws {
        _ = try parsedRequestTimeout()
        if let server {
            do {
                _ = try ServerURL(parsing: server)
            } catch {
                throw ValidationError(error.message)
            }
        }
    }

    /// `--request-timeout` as a Duration, nil for none; as kubectl, a bare number is seconds.
    func parsedRequestTimeout() throws(ValidationError) -> Duration? {
        let nanoseconds: Int64
        if let seconds = Int64(requestTimeout) {
            let (product, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
            guard !overflow else { throw ValidationError("--request-timeout \(requestTimeout) is too long") }
            nanoseconds = product
        } else if let duration = try? GoDuration(parsing: requestTimeout) {
            nanoseconds = duration.nanoseconds
        } else {
            throw ValidationError(
                "invalid --request-timeout \"\(requestTimeout)\": expected a duration such as 30s or 2m, or whole seconds")
        }
        guard nanoseconds >= 0 else { throw ValidationError("--request-timeout must not be negative") }
        return nanoseconds == 0 ? nil : .nanoseconds(nanoseconds)
    }

    /// The address used when neither a flag nor a kubeconfig names one: the local `apoxy server`.
    static let defaultServer = "http://127.0.0.1:8080"

    /// Where and how to connect: the flags first, then the kubeconfig (`--kubeconfig`, else `$KUBECONFIG`, else
    /// `~/.kube/config` when it exists, as kubectl looks), then the default local server.
    func resolve(environment: [String: String] = ProcessInfo.processInfo.environment) throws(CLIError) -> ServerTarget {
        var paths: [String] = []
        var explicit = false
        if let kubeconfig {
            paths = [kubeconfig]
            explicit = true
        } else if let list = environment["KUBECONFIG"], !list.isEmpty {
            paths = list.split(separator: ":").map(String.init)
        } else if let home = environment["HOME"], !home.isEmpty {
            let file = (home as NSString).appendingPathComponent(".kube/config")
            if FileManager.default.fileExists(atPath: file) { paths = [file] }
        }
        // The default is a constant known to parse.
        var target = ServerTarget(url: try! ServerURL(parsing: Self.defaultServer))
        if !paths.isEmpty {
            let config = try Kubeconfig.load(paths: paths, explicit: explicit)
            if let resolved = try config.target(context: context) { target = resolved }
        } else if let context {
            throw .client(
                .badInput, "context \"\(context)\" requested but no kubeconfig is set (--kubeconfig, KUBECONFIG or ~/.kube/config)")
        }
        if let server {
            do {
                target.url = try ServerURL(parsing: server)
            } catch {
                throw .client(.usage, error.message)
            }
        }
        if let token { target.token = token }
        if insecureSkipTLSVerify { target.tls.insecureSkipVerify = true }
        // validate() has refused a bad value already.
        target.requestTimeout = (try? parsedRequestTimeout()) ?? nil
        return target
    }
}

/// Why a server address is not usable.
struct InvalidServerURL: Error, Sendable {
    var message: String
}

/// A parsed `http(s)://host[:port][/prefix]` server address.
struct ServerURL: Sendable, Equatable, CustomStringConvertible {
    var secure: Bool
    var host: String
    var port: Int
    /// A path the API is mounted under (`/k8s/clusters/c-1`), without a trailing slash; usually empty.
    var pathPrefix: String

    init(parsing text: String) throws(InvalidServerURL) {
        guard let components = URLComponents(string: text), let scheme = components.scheme?.lowercased(),
            scheme == "http" || scheme == "https", let host = components.host, !host.isEmpty
        else {
            throw InvalidServerURL(message: "invalid server URL \"\(text)\": expected http://host[:port] or https://host[:port]")
        }
        guard components.query == nil, components.fragment == nil, components.user == nil else {
            throw InvalidServerURL(message: "invalid server URL \"\(text)\": no query, fragment or user part allowed")
        }
        secure = scheme == "https"
        self.host = host.hasPrefix("[") && host.hasSuffix("]") ? String(host.dropFirst().dropLast()) : host
        port = components.port ?? (secure ? 443 : 80)
        var path = components.percentEncodedPath
        while path.hasSuffix("/") { path.removeLast() }
        pathPrefix = path
    }

    var description: String {
        let hostPart = host.contains(":") ? "[\(host)]" : host
        return "\(secure ? "https" : "http")://\(hostPart):\(port)\(pathPrefix)"
    }
}

/// TLS settings for an https server.
struct TLSSettings: Sendable, Equatable {
    /// PEM bytes of the certificate authorities to trust (instead of the system's).
    var certificateAuthority: [UInt8]?
    /// PEM client certificate chain and key, for mutual TLS.
    var clientCertificate: [UInt8]?
    var clientKey: [UInt8]?
    /// Skip certificate verification entirely.
    var insecureSkipVerify = false
    /// The name to send as SNI and verify the certificate against, when not the URL's host.
    var serverName: String?
}

/// Everything needed to reach one server.
struct ServerTarget: Sendable {
    var url: ServerURL
    var token: String?
    var tls = TLSSettings()
    /// The deadline of each request but a watch (`--request-timeout`); nil: none.
    var requestTimeout: Duration?
}
