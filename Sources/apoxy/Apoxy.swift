import ApoxyCLI
import ApoxyMetrics
import ApoxyServer
import ApoxyStorage
import ArgumentParser
import Foundation
import Logging
import ServiceLifecycle
import UnixSignals

/// The `apoxy` command.
@main
struct Apoxy: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "apoxy",
        abstract: "Apoxy: a Kubernetes-style API server for core.apoxy.dev Backends and gateway.apoxy.dev HTTPRoutes, and its client.",
        discussion: """
            Run the server with `apoxy server`; manage Backends on it with `apoxy backend` (alias `be`).
            Shell completion: `apoxy --generate-completion-script bash` (or zsh, fish).

            \(CLIExitCode.helpTable)
            """,
        subcommands: [Server.self, DevCommand.self, BackplaneCommand.self, BackendCommand.self, RouteCommand.self, VersionCommand.self]
    )

    /// ArgumentParser's entry point, except that usage errors exit with 2 (see CommandLineEntry).
    static func main() async {
        await CommandLineEntry.main(Apoxy.self)
    }
}

/// `apoxy server`: serve the API on embedded SQLite.
struct Server: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the API server on embedded, durable SQLite, or on an etcd cluster.",
        discussion: """
            Serves /apis/core.apoxy.dev/v1alpha2/backends and /apis/gateway.apoxy.dev/v1/httproutes as kube-apiserver
            serves cluster-scoped custom resources.
            Point kubectl at it with a kubeconfig whose cluster server is http://<listen> (loopback, no certificate) or
            https://<listen>. Off loopback without --tls-cert-file it serves HTTPS with a self-signed certificate it
            generates in --data-dir (apiserver.crt, apiserver.key).

            Example:
              apoxy server --listen 127.0.0.1:8080 --data-dir ./apoxy-data
              apoxy server --storage etcd --etcd-servers http://127.0.0.1:2379,http://127.0.0.1:22379
            """
    )

    @Option(help: ArgumentHelp("Address and port to listen on (port 0 picks a free one).", valueName: "host:port"))
    var listen = HostPort("127.0.0.1", 8080)

    @OptionGroup(title: "Storage")
    var storage: StorageOptions

    @OptionGroup(title: "Logging")
    var log: LogOptions

    @Flag(inversion: .prefixedEnableDisable, help: "Serve kube-apiserver's metrics at /metrics (Prometheus text format).")
    var metrics = true

    @OptionGroup(title: "Events")
    var events: EventOptions

    @OptionGroup var security: SecurityOptions

    @OptionGroup(title: "Limits")
    var limits: LimitOptions

    func run() async throws {
        let logger = log.logger
        let (host, port) = (listen.host, listen.port)
        let registry = metrics ? MetricsRegistry() : nil
        let opened = try storage.open(logger: logger, metrics: registry)
        // The certificate folder (kube's --cert-dir) is the data folder, whatever the storage.
        try FileManager.default.createDirectory(atPath: storage.dataDir, withIntermediateDirectories: true)
        var configuration = try security.configuration(host: host, port: port, dataDir: storage.dataDir, logger: logger)
        configuration.limits = try limits.limits()
        configuration.metrics = registry
        configuration.eventTTL = try events.ttl()
        let scheme = configuration.tls == nil ? "http" : "https"
        let mode = configuration.authorizationMode.rawValue
        let application = try APIServer.application(
            storage: opened.storage, configuration: configuration, logger: logger,
            onListening: { port in
                logger.notice(
                    "apoxy API server listening",
                    metadata: [
                        "address": "\(host):\(port)", "scheme": "\(scheme)", "authorization": "\(mode)", "storage": "\(opened.location)",
                    ])
            })
        // Storage services first: a service group stops services in reverse order, so storage outlives the API.
        let group = ServiceGroup(
            configuration: ServiceGroupConfiguration(
                services: opened.services + [application], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
        await opened.close()
        logger.notice("apoxy API server stopped")
    }
}
