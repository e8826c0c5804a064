import ApoxyAPI
import ApoxyClient
import ApoxyStorage
import ArgumentParser
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// `apoxy-bench`: the API's speed side by side with the raw storage engine, in one run on one machine.
@main
struct Bench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "apoxy-bench",
        abstract: "Benchmark the apoxy API server against raw SQLite and raw etcd storage; prints a table and writes JSON.",
        discussion: """
            Starts `apoxy server` itself (a fresh data directory on loopback) and measures, at each concurrency:
            raw durable storage inserts/updates, API create/get/update/patch/delete, lists of 1,000 and 10,000
            Backends, watch delivery latency to many watchers, and server memory. Then it starts a single-member
            etcd (data on disk in the same temporary workspace) and `apoxy server --storage etcd` on it, and measures
            raw etcd creates, gets and guarded updates through `EtcdStorage` (the server's etcd client) next to API
            create, get, update, patch and delete over that server. Without etcd that section is skipped, unless
            CI=true or APOXY_REQUIRE_TOOLS=1, which make a missing etcd an error.

            Examples:
              swift build -c release && .build/release/apoxy-bench
              .build/debug/apoxy-bench --quick            # seconds; what CI runs
            """)

    @Flag(help: "A small, fast configuration (CI): fewer operations, no 100,000-object memory step.")
    var quick = false

    @Option(help: "Path of the apoxy binary (default: next to this executable).")
    var server: String?

    @Option(help: "Where to write the JSON results.")
    var output = "benchmark-results.json"

    @Option(help: "Concurrency levels (comma-separated).")
    var concurrency = "1,16,64"

    @Option(help: "Operations per step (default: 4096, --quick 64).")
    var operations: Int?

    @Option(help: "Concurrent watchers for the fan-out step.")
    var watchers: Int?

    @Option(help: "Path of the etcd binary (default: $APOXY_ETCD, else .venv/bin/etcd from scripts/install-tools.sh).")
    var etcdBinary: String?

    @Option(help: "Time limit of each step, in seconds (default: 300, --quick 60).")
    var stepTimeout: Int?

    @Option(help: "Only measure translation of this many Backends (each with a route) to a checked xDS snapshot.")
    var translate: Int?

    mutating func run() async throws {
        if let translate {
            let result = try TranslationBench.run(backends: translate, iterations: quick ? 3 : 10)
            print(
                "translation of \(translate) Backends and \(translate) routes to a checked snapshot (\(result.clusters) clusters): "
                    + "p50 \(String(format: "%.1f", result.p50)) ms, max \(String(format: "%.1f", result.max)) ms")
            let changes = try TranslationBench.incremental(backends: translate, changes: quick ? 5 : 50)
            print(
                "incremental, \(translate) present: first apply \(String(format: "%.1f", changes.first)) ms; "
                    + "endpoint edit p50 \(String(format: "%.3f", changes.endpointP50)) ms (max \(String(format: "%.3f", changes.endpointMax))); "
                    + "new route p50 \(String(format: "%.3f", changes.routeP50)) ms (max \(String(format: "%.3f", changes.routeMax)))")
            return
        }
        raiseFileLimit()
        let levels = concurrency.split(separator: ",").compactMap { Int($0) }
        StepLimit.limit = .seconds(stepTimeout ?? (quick ? 60 : 300))
        let environment = ProcessInfo.processInfo.environment
        let etcdRequired = environment["CI"] == "true" || environment["APOXY_REQUIRE_TOOLS"] == "1"
        let (etcdPath, etcdLooked) = EtcdRunner.locate(option: etcdBinary)
        if etcdPath == nil, etcdRequired {
            throw BenchError(
                message: "etcd is required (CI=true or APOXY_REQUIRE_TOOLS=1) but was not found at \(etcdLooked.joined(separator: ", ")); "
                    + "scripts/install-tools.sh installs it into .venv/bin, or pass --etcd-binary / set APOXY_ETCD")
        }
        let operations = self.operations ?? (quick ? 64 : 4096)
        let watcherCount = watchers ?? (quick ? 50 : 1000)
        let serverPath =
            server ?? URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("apoxy").path
        let workspace = FileManager.default.temporaryDirectory.appendingPathComponent("apoxy-bench-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: workspace, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: workspace) }
        let cpuStart = processCPUSeconds()
        let wallStart = ContinuousClock.now
        var results: [Measurement] = []
        var ratios: [Ratio] = []

        print(
            "apoxy-bench: \(quick ? "quick" : "full") run, \(ProcessInfo.processInfo.activeProcessorCount) cores, operations per step \(operations)"
        )
        for level in levels {
            let raw = try await RawStorageBench.run(directory: workspace, concurrency: level, operations: operations)
            results += raw
        }

        var memory: [String: Int] = [:]
        let listSizes = quick ? [200, 1_000] : [1_000, 10_000]
        var overloadDocument: [String: Any] = [:]
        let serverData = workspace.appendingPathComponent("server").path
        try await ServerRunner.with(binary: serverPath, logPath: serverData + ".log", arguments: ["--data-dir", serverData]) { runner in
            StepCPU.serverPID = runner.pid
            memory["empty_kib"] = residentKiB(pid: runner.pid)
            for level in levels {
                let api = try await APIBench.crud(port: runner.port, concurrency: level, operations: operations, prefix: "c\(level)")
                results += api
                for kind in ["insert", "update"] {
                    let rawName = "raw sqlite \(kind) c=\(level)"
                    let apiName = "api \(kind == "insert" ? "create" : "update (PUT)") c=\(level)"
                    if let r = results.first(where: { $0.name == rawName }), let a = results.first(where: { $0.name == apiName }),
                        r.throughput > 0
                    {
                        ratios.append(
                            Ratio(
                                storage: "sqlite", operation: kind == "insert" ? "create" : "update", concurrency: level,
                                value: a.throughput / r.throughput))
                    }
                }
            }
            let getP99 = try await APIBench.getLatency(port: runner.port, concurrency: 32, operations: operations)
            results.append(getP99)

            for count in listSizes {
                try await APIBench.populate(port: runner.port, to: count)
                results.append(try await APIBench.list(port: runner.port, expected: count, iterations: quick ? 3 : 10))
                if count == listSizes.last { memory["with_\(count)_kib"] = residentKiB(pid: runner.pid) }
            }
            let watchUpdates = quick ? 40 : 200
            let watch = try await withTimeLimit("watch delivery", StepLimit.limit) { [port = runner.port] in
                try await WatchBench.run(port: port, watchers: watcherCount, updates: watchUpdates, rate: 50)
            }
            results.append(watch)
            // Overload: few clients, then many more than --max-requests-inflight (400), in the same run on one object.
            try await OverloadBench.seed(port: runner.port)
            let overloadDuration: Duration = quick ? .seconds(1) : .seconds(5)
            let unloaded = try await OverloadBench.run(port: runner.port, serverPID: runner.pid, clients: 32, duration: overloadDuration)
            let overloaded = try await OverloadBench.run(
                port: runner.port, serverPID: runner.pid, clients: quick ? 600 : 2_000, duration: overloadDuration)
            for (label, outcome) in [("unloaded", unloaded), ("overloaded", overloaded)] {
                let measurement = Measurement(
                    name: "api get, \(outcome.clients) clients (\(label))", operations: outcome.admitted, seconds: outcome.seconds,
                    latenciesMicros: outcome.admittedLatenciesMicros, cpu: nil)
                results.append(measurement)
                overloadDocument[label] = [
                    "clients": outcome.clients, "admitted_per_second": outcome.admittedPerSecond, "refused_429": outcome.refused,
                    "refused_share": outcome.refusedShare, "other_errors": outcome.errors,
                    "admitted_p99_ms": measurement.percentile(99) / 1000,
                    "peak_rss_kib": outcome.peakRSSKiB,
                ]
            }
            let admittedRatio = unloaded.admittedPerSecond > 0 ? overloaded.admittedPerSecond / unloaded.admittedPerSecond : 0
            overloadDocument["admitted_ratio"] = admittedRatio
            let overloadP99 =
                Measurement(
                    name: "", operations: 0, seconds: 1, latenciesMicros: overloaded.admittedLatenciesMicros, cpu: nil
                ).percentile(99) / 1000
            print(
                "overload: \(overloaded.clients) clients: admitted \(format(overloaded.admittedPerSecond, 0))/s "
                    + "(\(format(admittedRatio, 2))x of \(unloaded.clients) clients' \(format(unloaded.admittedPerSecond, 0))/s), "
                    + "\(format(overloaded.refusedShare * 100, 1))% answered 429, admitted p99 \(format(overloadP99, 1)) ms, "
                    + "server peak RSS \(overloaded.peakRSSKiB / 1024) MiB, other errors \(overloaded.errors) "
                    + "(targets: >= 0.9x, p99 < 50 ms, RSS < 512 MiB, no errors but 429)")
            if !quick {
                try await APIBench.populate(port: runner.port, to: 100_000)
                memory["with_100000_kib"] = residentKiB(pid: runner.pid)
            }
        }
        StepCPU.serverPID = nil

        // The target is at concurrency 16 (as the etcd one); quick runs use the first level only.
        let secureLevel = levels.contains(16) ? 16 : levels.first ?? 1
        let secure = try await SecureBench.run(
            serverBinary: serverPath, workspace: workspace, concurrency: secureLevel, operations: operations)
        results += secure.results
        let secureDocument: [String: Any] = [
            "concurrency": secureLevel, "client": "HTTP/1.1 keep-alive over TLS 1.3, bearer token, RBAC (a non-masters user)",
            "ratios": Dictionary(uniqueKeysWithValues: secure.ratios.map { ($0.operation, $0.value) }),
        ]

        let metricsCost = try await MetricsBench.run(
            serverBinary: serverPath, workspace: workspace, concurrency: secureLevel, operations: operations)
        results += metricsCost.results
        let metricsDocument: [String: Any] = [
            "concurrency": secureLevel, "compared": "default (/metrics on) against --disable-metrics",
            "ratios": Dictionary(uniqueKeysWithValues: metricsCost.ratios.map { ($0.operation, $0.value) }),
        ]

        var etcdDocument: [String: Any] = ["skipped": true]
        if let etcdPath {
            // The issue's target is at concurrency 16; the other levels cost a minute more and are not needed for it.
            let etcdLevels = levels.contains(16) ? [16] : Array(levels.prefix(1))
            let etcd = try await EtcdSection.run(
                etcdBinary: etcdPath, serverBinary: serverPath, workspace: workspace, levels: etcdLevels,
                operations: min(operations, EtcdSection.maximumOperations))
            results += etcd.results
            ratios += etcd.ratios
            etcdDocument = [
                "skipped": false, "version": etcd.version, "binary": etcdPath, "members": 1, "concurrency": etcdLevels,
                "operations_per_step": min(operations, EtcdSection.maximumOperations),
            ]
        } else {
            print("etcd section skipped: no etcd at \(etcdLooked.joined(separator: ", ")) (scripts/install-tools.sh installs it)")
        }

        let cpuUsed = processCPUSeconds() - cpuStart
        let wall = micros(ContinuousClock.now - wallStart) / 1e6
        let generatorLoad = cpuUsed / wall
        // Printing
        print("")
        print(
            pad("step", 34) + pad("ops", 8) + pad("ops/s", 10) + pad("p50 ms", 9) + pad("p99 ms", 9) + pad("max ms", 9)
                + pad("gen/srv[/etcd] cores", 21) + "note")
        for m in results {
            let cpu = m.reportedCPU
            let cores =
                cpu.map {
                    format($0.generator, 2) + "/" + ($0.server > 0 ? format($0.server, 2) : "-")
                        + ($0.storage.map { "/" + format($0, 2) } ?? "")
                } ?? ""
            // The generator saturates when it alone keeps most of a core busy (it shares the server's 2 cores). Raw
            // SQLite steps have no server: their "generator" is the storage engine under test. Raw etcd steps have
            // no server either: their "generator" is the etcd client.
            let generatorBusy = (cpu?.generator ?? 0) > 0.9
            let saturated =
                (cpu?.server ?? 0) > 0 && generatorBusy
                ? " (generator SATURATED: a lower bound)" : cpu?.storage != nil && generatorBusy ? " (etcd client SATURATED)" : ""
            print(
                pad(m.name, 34) + pad(String(m.operations), 8) + pad(format(m.throughput, 0), 10)
                    + pad(format(m.percentile(50) / 1000, 2), 9)
                    + pad(format(m.percentile(99) / 1000, 2), 9) + pad(format((m.latenciesMicros.max() ?? 0) / 1000, 2), 9) + pad(cores, 21)
                    + m.note + saturated)
        }
        print("gen/srv[/etcd] cores: CPU of the load generator (raw sqlite steps: the storage engine; raw etcd steps: the etcd client),")
        print("  of the server, and in the etcd section of etcd, during the step (steps over 0.25 s).")
        print("")
        print("API / raw storage throughput (same concurrency, same run):")
        print("  " + pad("operation", 10) + pad("c", 5) + pad("sqlite", 8) + "etcd")
        for operation in ["create", "get", "update"] {
            for level in levels {
                let cells: [String] = ["sqlite", "etcd"].map { (storage: String) -> String in
                    guard let ratio = ratios.first(where: { $0.storage == storage && $0.operation == operation && $0.concurrency == level })
                    else { return "-" }
                    return format(ratio.value, 2) + "x"
                }
                if cells != ["-", "-"] { print("  " + pad(operation, 10) + pad(String(level), 5) + pad(cells[0], 8) + cells[1]) }
            }
        }
        let etcdWrites = ratios.filter { $0.storage == "etcd" && $0.concurrency == 16 && $0.operation != "get" }
        if !etcdWrites.isEmpty {
            let met = etcdWrites.allSatisfy { $0.value >= 0.5 }
            print(
                "target: API over etcd >= 0.5x raw etcd writes at c=16: "
                    + etcdWrites.map { "\($0.operation) \(format($0.value, 2))x" }.joined(separator: ", ") + (met ? " (met)" : " (short)"))
        }
        let secureMet = secure.ratios.allSatisfy { $0.value >= 0.8 }
        print(
            "TLS + bearer token + RBAC over plain HTTP at c=\(secureLevel): "
                + secure.ratios.map { "\($0.operation) \(format($0.value, 2))x" }.joined(separator: ", ")
                + " (target >= 0.8x: \(secureMet ? "met" : "short"))")
        let metricsMet = metricsCost.ratios.allSatisfy { $0.value >= 0.95 }
        print(
            "metrics on over --disable-metrics at c=\(secureLevel): "
                + metricsCost.ratios.map { "\($0.operation) \(format($0.value, 2))x" }.joined(separator: ", ")
                + " (target >= 0.95x: \(metricsMet ? "met" : "short"))")
        print("")
        let largest = listSizes.last!
        let perObject = memory["with_\(largest)_kib"].map { ($0 - (memory["empty_kib"] ?? 0)) * 1024 / largest }
        print(
            "server RSS: empty \(memory["empty_kib"] ?? 0) KiB, \(largest) Backends \(memory["with_\(largest)_kib"] ?? 0) KiB"
                + (memory["with_100000_kib"].map { ", 100,000 Backends \($0) KiB" } ?? ""))
        if let perObject { print("memory per stored Backend (at \(largest)): \(perObject) bytes") }
        if let big = memory["with_100000_kib"] {
            print("memory per stored Backend (at 100000): \((big - (memory["empty_kib"] ?? 0)) * 1024 / 100_000) bytes")
        }
        let saturated = generatorLoad > 0.9
        print(
            "load generator CPU: \(format(generatorLoad * 100, 0))% of one core over \(format(wall, 1)) s"
                + (saturated ? " (SATURATED: numbers are a lower bound)" : ""))

        let document: [String: Any] = [
            "machine": ["cores": ProcessInfo.processInfo.activeProcessorCount, "memory_bytes": ProcessInfo.processInfo.physicalMemory],
            "quick": quick, "results": results.map(\.json),
            "ratios": ratios.map { (ratio: Ratio) -> [String: Any] in ratio.json }, "etcd": etcdDocument,
            "memory_kib": memory, "load_generator_cpu_fraction": generatorLoad, "wall_seconds": wall, "overload": overloadDocument,
            "secure": secureDocument,
            "metrics": metricsDocument,
        ]
        let data = try JSONSerialization.data(withJSONObject: document, options: [.prettyPrinted, .sortedKeys])
        try data.write(to: URL(fileURLWithPath: output))
        print("results written to \(output)")
    }
}
