import Foundation
import Logging
import SwiftProtobuf

/// How to reach an etcd cluster and where apoxy keeps its keys there; kube-apiserver's `--etcd-*` flags.
public struct EtcdConfiguration: Sendable {
    /// One member's client address.
    public struct Endpoint: Sendable, Equatable, CustomStringConvertible {
        public var host: String
        public var port: Int
        public var secure: Bool

        /// Creates an endpoint.
        public init(host: String, port: Int, secure: Bool = false) {
            self.host = host
            self.port = port
            self.secure = secure
        }

        public var description: String { "\(secure ? "https" : "http")://\(host.contains(":") ? "[\(host)]" : host):\(port)" }
    }

    /// PEM files for TLS to etcd (`--etcd-cafile`, `--etcd-certfile`, `--etcd-keyfile`).
    public struct TLSFiles: Sendable, Equatable {
        public var caFile: String?
        public var certFile: String?
        public var keyFile: String?

        /// Creates the TLS settings.
        public init(caFile: String? = nil, certFile: String? = nil, keyFile: String? = nil) {
            self.caFile = caFile
            self.certFile = certFile
            self.keyFile = keyFile
        }
    }

    /// The members to use, in order of preference; a failed connection moves to the next.
    public var endpoints: [Endpoint]
    /// The key prefix every object is stored under (`--etcd-prefix`, kube's default `/registry`).
    public var prefix: String
    /// TLS material; used when an endpoint is `https`.
    public var tls: TLSFiles
    /// The longest any single etcd request may take before the API answers 503.
    public var requestTimeout: Duration
    /// How often history is compacted (`--etcd-compaction-interval`); nil disables compaction.
    public var compactionInterval: Duration?
    /// How many changes a watcher may lag before its stream is ended.
    public var watchBuffer: Int

    /// Creates a configuration.
    public init(
        endpoints: [Endpoint], prefix: String = "/registry", tls: TLSFiles = TLSFiles(), requestTimeout: Duration = .seconds(5),
        compactionInterval: Duration? = .seconds(300), watchBuffer: Int = 10_000
    ) {
        self.endpoints = endpoints
        var prefix = prefix
        while prefix.hasSuffix("/") { prefix.removeLast() }
        self.prefix = prefix
        self.tls = tls
        self.requestTimeout = requestTimeout
        self.compactionInterval = compactionInterval
        self.watchBuffer = watchBuffer
    }

    /// Parses `--etcd-servers`: comma-separated `http://host:port` or `https://host:port` URLs.
    public static func parseServers(_ text: String) throws(EtcdConfigurationError) -> [Endpoint] {
        var endpoints: [Endpoint] = []
        for raw in text.split(separator: ",", omittingEmptySubsequences: true) {
            let url = raw.trimmingCharacters(in: .whitespaces)
            let secure: Bool
            let rest: Substring
            if url.hasPrefix("http://") {
                secure = false
                rest = url.dropFirst("http://".count)
            } else if url.hasPrefix("https://") {
                secure = true
                rest = url.dropFirst("https://".count)
            } else {
                throw EtcdConfigurationError("etcd server \"\(url)\" must be an http:// or https:// URL")
            }
            let authority = rest.split(separator: "/", maxSplits: 1).first.map(String.init) ?? ""
            guard let colon = authority.lastIndex(of: ":"), let port = Int(authority[authority.index(after: colon)...]),
                (1...65535).contains(port)
            else {
                throw EtcdConfigurationError("etcd server \"\(url)\" must name a port, e.g. http://127.0.0.1:2379")
            }
            var host = String(authority[..<colon])
            if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
            guard !host.isEmpty else { throw EtcdConfigurationError("etcd server \"\(url)\" has no host") }
            endpoints.append(Endpoint(host: host, port: port, secure: secure))
        }
        guard !endpoints.isEmpty else { throw EtcdConfigurationError("--etcd-servers must list at least one server") }
        guard Set(endpoints.map(\.secure)).count == 1 else {
            throw EtcdConfigurationError("--etcd-servers must be all http:// or all https://")
        }
        return endpoints
    }
}

/// A configuration that cannot work, said in terms of the flags.
public struct EtcdConfigurationError: Error, CustomStringConvertible, Equatable {
    public var description: String

    /// Creates an error.
    public init(_ description: String) { self.description = description }
}
