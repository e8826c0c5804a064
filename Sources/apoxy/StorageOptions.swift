import ApoxyAPI
import ApoxyEtcd
import ApoxyMetrics
import ApoxyStorage
import ArgumentParser
import Foundation
import Logging
import ServiceLifecycle

/// Which engine stores the objects.
enum StorageBackend: String, ExpressibleByArgument, CaseIterable {
    case sqlite
    case etcd
}

/// The storage flags, named as kube-apiserver names its etcd flags.
struct StorageOptions: ParsableArguments {
    @Option(help: "Storage engine: sqlite (embedded, one server) or etcd (a cluster shared by any number of servers).")
    var storage: StorageBackend = .sqlite

    @Option(help: "Folder for the SQLite database (created if missing); sqlite only.")
    var dataDir = "apoxy-data"

    @Option(
        help: ArgumentHelp(
            "How much watch history SQLite keeps: a duration (5m, 1h30m) or a number of revisions; 0 keeps everything.",
            discussion: "Watches and lists at older resourceVersions answer 410 Gone, as kube-apiserver does after etcd compaction."))
    var historyRetention = "5m"

    @Option(name: .customLong("etcd-servers"), help: "etcd members to connect to: comma-separated http(s)://host:port URLs.")
    var etcdServers: String?

    @Option(name: .customLong("etcd-prefix"), help: "The prefix of every key in etcd.")
    var etcdPrefix = "/registry"

    @Option(name: .customLong("etcd-cafile"), help: "PEM CA bundle that verifies etcd's serving certificates.")
    var etcdCAFile: String?

    @Option(name: .customLong("etcd-certfile"), help: "PEM client certificate for etcd.")
    var etcdCertFile: String?

    @Option(name: .customLong("etcd-keyfile"), help: "PEM private key of --etcd-certfile.")
    var etcdKeyFile: String?

    @Option(name: .customLong("etcd-compaction-interval"), help: "How often etcd history is compacted (a duration; 0 disables).")
    var etcdCompactionInterval = "5m"

    @Option(name: .customLong("etcd-request-timeout"), help: "The longest one etcd request may take before the API answers 503.")
    var etcdRequestTimeout = "5s"

    func validate() throws {
        switch storage {
        case .sqlite:
            _ = try retention()
            if etcdServers != nil { throw ValidationError("--etcd-servers needs --storage etcd") }
        case .etcd:
            guard let etcdServers else { throw ValidationError("--storage etcd needs --etcd-servers, e.g. http://127.0.0.1:2379") }
            do {
                _ = try EtcdConfiguration.parseServers(etcdServers)
            } catch {
                throw ValidationError(error.description)
            }
            _ = try Self.duration(etcdCompactionInterval, flag: "--etcd-compaction-interval")
            _ = try Self.duration(etcdRequestTimeout, flag: "--etcd-request-timeout")
            if (etcdCertFile == nil) != (etcdKeyFile == nil) {
                throw ValidationError("--etcd-certfile and --etcd-keyfile go together")
            }
            guard etcdPrefix.hasPrefix("/") else { throw ValidationError("--etcd-prefix must start with /") }
        }
    }

    static func duration(_ text: String, flag: String) throws -> Duration {
        if text == "0" { return .zero }
        do {
            let parsed = try GoDuration(parsing: text)
            guard parsed.nanoseconds >= 0 else { throw ValidationError("\(flag) must not be negative") }
            return .nanoseconds(parsed.nanoseconds)
        } catch let error as GoDurationParseError {
            throw ValidationError("\(flag): \(error)")
        }
    }

    func retention() throws -> HistoryRetention {
        if let revisions = Int64(historyRetention) {
            guard revisions >= 0 else { throw ValidationError("--history-retention must not be negative") }
            return revisions == 0 ? .unlimited : .revisions(revisions)
        }
        let duration = try Self.duration(historyRetention, flag: "--history-retention")
        return duration == .zero ? .unlimited : .duration(duration)
    }

    /// The opened storage, the services that keep it (run before the API server, stopped after), and a line that
    /// says where data lives.
    func open(
        logger: Logger, metrics: MetricsRegistry? = nil
    ) throws -> (storage: any RevisionedStorage, services: [any Service], location: String, close: @Sendable () async -> Void) {
        switch storage {
        case .sqlite:
            try FileManager.default.createDirectory(atPath: dataDir, withIntermediateDirectories: true)
            let path = (dataDir as NSString).appendingPathComponent("apoxy.sqlite")
            let storage = try SQLiteStorage(path: path, metrics: metrics.map(StorageMetrics.init(registry:)))
            let compactor = HistoryCompactor(storage: storage, retention: try retention(), logger: logger)
            return (storage, [compactor], "sqlite:\(path)", { await storage.close() })
        case .etcd:
            let interval = try Self.duration(etcdCompactionInterval, flag: "--etcd-compaction-interval")
            let configuration = EtcdConfiguration(
                endpoints: try EtcdConfiguration.parseServers(etcdServers ?? ""), prefix: etcdPrefix,
                tls: .init(caFile: etcdCAFile, certFile: etcdCertFile, keyFile: etcdKeyFile),
                requestTimeout: try Self.duration(etcdRequestTimeout, flag: "--etcd-request-timeout"),
                compactionInterval: interval == .zero ? nil : interval)
            let storage = try EtcdStorage(configuration: configuration, logger: logger)
            return (storage, [storage], "etcd:\(etcdServers ?? "")\(etcdPrefix)", {})
        }
    }
}
