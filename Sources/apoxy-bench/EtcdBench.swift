import ApoxyEtcd
import ApoxyProcess
import ApoxyStorage
import Foundation
import Logging

/// API throughput over etcd next to raw etcd, in the same run: a single-member etcd on disk in the workspace,
/// `apoxy server --storage etcd` on it, and `EtcdStorage` (the server's own etcd client) driven in-process.
enum EtcdSection {
    /// Operations per etcd step at most (the SQLite steps' count otherwise). It was 64 while grpc-swift's unary client
    /// lost its connection after ~200 calls (etcd reset every stream); EtcdUnaryClient fixed that.
    static let maximumOperations = 4096

    struct Outcome {
        var results: [Measurement]
        var ratios: [Ratio]
        var version: String
        var url: String
    }

    static func run(etcdBinary: String, serverBinary: String, workspace: URL, levels: [Int], operations: Int) async throws -> Outcome {
        let version = await EtcdRunner.version(binary: etcdBinary)
        print("etcd section: etcd \(version) at \(etcdBinary), single member, data in the workspace")
        return try await EtcdRunner.with(binary: etcdBinary, dataDir: workspace.appendingPathComponent("etcd").path) { etcd in
            StepCPU.storagePID = etcd.pid
            defer { StepCPU.storagePID = nil }
            return try await ServerRunner.with(
                binary: serverBinary, logPath: workspace.appendingPathComponent("server-etcd.log").path,
                arguments: ["--storage", "etcd", "--etcd-servers", etcd.url]
            ) { server in
                // Raw etcd: the same client code as the server's, under its own prefix (the server's is /registry).
                // The server's defaults (5 s request timeout), minus its compactor: the server runs one on the same etcd.
                let configuration = EtcdConfiguration(
                    endpoints: try EtcdConfiguration.parseServers(etcd.url), prefix: "/apoxy-bench-raw", compactionInterval: nil)
                var logger = Logger(label: "apoxy-bench.etcd")
                logger.logLevel = .warning
                let storage = try EtcdStorage(configuration: configuration, logger: logger)
                let results: [Measurement]
                do {
                    results = try await measureAll(
                        storage, levels: levels, operations: operations, port: server.port, serverPID: server.pid)
                } catch {
                    // What the children said, before their logs go with the workspace.
                    print("apoxy-bench: the etcd section failed: \(error)")
                    print("etcd log (end):\n\(etcd.child.log.suffix(2500))")
                    print("apoxy server (etcd) log (end):\n\(server.child.log.suffix(2500))")
                    throw error
                }
                return Outcome(results: results, ratios: ratios(results, levels: levels), version: version, url: etcd.url)
            }
        }
    }

    /// Raw etcd then the API over etcd, level by level, so that both see the machine in the same state.
    static func measureAll(
        _ storage: EtcdStorage, levels: [Int], operations: Int, port: Int, serverPID: Int32
    ) async throws -> [Measurement] {
        try await running(storage) { storage in
            try await withTimeLimit("raw etcd client ready", .seconds(30)) { try await storage.checkReady() }
            var results: [Measurement] = []
            for level in levels {
                StepCPU.serverPID = nil
                results += try await RawEtcdBench.run(storage, concurrency: level, operations: operations)
                StepCPU.serverPID = serverPID
                results += try await APIBench.crud(
                    port: port, concurrency: level, operations: operations, prefix: "e\(level)", label: "api etcd")
            }
            results.append(try await APIBench.getLatency(port: port, concurrency: 32, operations: operations, label: "api etcd"))
            return results
        }
    }

    static func ratios(_ results: [Measurement], levels: [Int]) -> [Ratio] {
        var ratios: [Ratio] = []
        for level in levels {
            for (operation, raw, api) in [
                ("create", "raw etcd create", "api etcd create"), ("get", "raw etcd get", "api etcd get"),
                ("update", "raw etcd update", "api etcd update (PUT)"),
            ] {
                if let r = results.first(where: { $0.name == "\(raw) c=\(level)" }),
                    let a = results.first(where: { $0.name == "\(api) c=\(level)" }), r.throughput > 0
                {
                    ratios.append(Ratio(storage: "etcd", operation: operation, concurrency: level, value: a.throughput / r.throughput))
                }
            }
        }
        return ratios
    }

    /// Runs `body` while `storage` runs (its gRPC connections), then stops it.
    static func running<T: Sendable>(_ storage: EtcdStorage, _ body: @escaping @Sendable (EtcdStorage) async throws -> T) async throws -> T
    {
        try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask {
                try await storage.run()
                return nil
            }
            defer { group.cancelAll() }
            return try await body(storage)
        }
    }
}

/// Durable single-key creates (a transaction: put if absent), guarded updates (put if the mod revision is still
/// the expected one) and linearizable gets through `EtcdStorage`: exactly what the server sends etcd per API
/// write or read, minus HTTP, JSON, validation and the registry.
enum RawEtcdBench {
    static func run(_ storage: EtcdStorage, concurrency: Int, operations: Int) async throws -> [Measurement] {
        let value = backendBody("raw")
        let revisions = RevisionBox(count: operations)
        let key = { @Sendable (i: Int) in "/raw/c\(concurrency)/\(i)" }
        let create = try await measure("raw etcd create c=\(concurrency)", concurrency: concurrency, operations: operations) { _, i in
            revisions.set(i, try await storage.create(key: key(i), value: value).modRevision)
        }
        let get = try await measure("raw etcd get c=\(concurrency)", concurrency: concurrency, operations: operations) { _, i in
            guard try await storage.get(key: key(i)) != nil else { throw BenchError(message: "raw etcd get: \(key(i)) is missing") }
        }
        let update = try await measure("raw etcd update c=\(concurrency)", concurrency: concurrency, operations: operations) { _, i in
            revisions.set(i, try await storage.update(key: key(i), value: value, expectedRevision: revisions.get(i)).modRevision)
        }
        return [create, get, update]
    }
}

/// API throughput over raw storage throughput for one operation at one concurrency, in the same run.
struct Ratio: Sendable {
    var storage: String
    var operation: String
    var concurrency: Int
    var value: Double

    var json: [String: Any] { ["storage": storage, "operation": operation, "concurrency": concurrency, "api_over_raw": value] }
}
