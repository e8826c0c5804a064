import ApoxyClient
import Foundation

/// Create and GET throughput of two fresh servers measured alternately in one run, so that drift in the machine's
/// speed falls on both alike; the ratio is the candidate's over the baseline's.
enum SideBySide {
    /// One server and its connections.
    struct Side {
        var label: String
        var clients: [HTTPConnection]
        var headers: [(String, String)] = []
        var pid: Int32
    }

    struct Outcome {
        var results: [Measurement]
        /// Candidate throughput over baseline, per operation.
        var ratios: [(operation: String, value: Double)]
    }

    static func createAndGet(baseline: Side, candidate: Side, concurrency: Int, operations: Int) async throws -> Outcome {
        var results: [Measurement] = []
        for (operation, method) in [("create", "POST"), ("get", "GET")] {
            for side in [baseline, candidate] {
                StepCPU.serverPID = side.pid
                let name = "\(side.label) \(operation) c=\(concurrency)"
                results.append(
                    try await measure(name, concurrency: concurrency, operations: operations) { worker, index in
                        let path = method == "POST" ? collection : collection + "/side-\(index)"
                        let response = try await side.clients[worker].request(
                            method, path, headers: side.headers + [("Content-Type", "application/json")],
                            body: method == "POST" ? backendBody("side-\(index)") : nil)
                        try APIBench.expect(response, method == "POST" ? 201 : 200, name)
                    })
            }
        }
        StepCPU.serverPID = nil
        let ratios = ["create", "get"].map { operation in
            let base = results.first { $0.name == "\(baseline.label) \(operation) c=\(concurrency)" }!
            let other = results.first { $0.name == "\(candidate.label) \(operation) c=\(concurrency)" }!
            return (operation, base.throughput > 0 ? other.throughput / base.throughput : 0)
        }
        return Outcome(results: results, ratios: ratios)
    }
}

/// What metrics cost: create and GET with `/metrics` on (the default) against `--disable-metrics`, side by side.
enum MetricsBench {
    static func run(serverBinary: String, workspace: URL, concurrency: Int, operations: Int) async throws -> SideBySide.Outcome {
        let folder = workspace.appendingPathComponent("metrics")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        return try await ServerRunner.with(
            binary: serverBinary, logPath: folder.appendingPathComponent("off.log").path,
            arguments: ["--data-dir", folder.appendingPathComponent("off").path, "--disable-metrics"]
        ) { off in
            try await ServerRunner.with(
                binary: serverBinary, logPath: folder.appendingPathComponent("on.log").path,
                arguments: ["--data-dir", folder.appendingPathComponent("on").path]
            ) { on in
                let offClients = try await APIBench.connections(off.port, concurrency)
                let onClients = try await APIBench.connections(on.port, concurrency)
                let outcome = try await SideBySide.createAndGet(
                    baseline: .init(label: "metrics off", clients: offClients, pid: off.pid),
                    candidate: .init(label: "metrics on", clients: onClients, pid: on.pid),
                    concurrency: concurrency, operations: operations)
                // The candidate really kept metrics: its exposition counts every create.
                let scrape = try await onClients[0].request("GET", "/metrics")
                try APIBench.expect(scrape, 200, "scrape /metrics")
                guard String(decoding: scrape.body, as: UTF8.self).contains("apiserver_request_total{verb=\"POST\"") else {
                    throw BenchError(message: "the metrics-on server's /metrics has no POST count")
                }
                for client in offClients + onClients { await client.close() }
                return outcome
            }
        }
    }
}
