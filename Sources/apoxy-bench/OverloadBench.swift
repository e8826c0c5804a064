import ApoxyClient
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Offered load several times capacity: many more clients than `--max-requests-inflight` (kube's 400) GET one
/// object for a fixed time, each waiting out `Retry-After` on a 429 as client-go does; beside the same step with few
/// clients in the same run. Reports admitted throughput, the share answered 429, p99 of admitted requests, peak RSS
/// and whether any request failed otherwise.
enum OverloadBench {
    struct Outcome {
        var clients: Int
        var seconds: Double
        var admitted: Int
        var refused: Int
        var errors: Int
        var admittedLatenciesMicros: [Double]
        var peakRSSKiB: Int

        var admittedPerSecond: Double { Double(admitted) / seconds }
        var refusedShare: Double { admitted + refused == 0 ? 0 : Double(refused) / Double(admitted + refused) }
    }

    static func run(port: Int, serverPID: Int32, clients: Int, duration: Duration) async throws -> Outcome {
        let connections = try await withThrowingTaskGroup(of: HTTPConnection.self) { group in
            for _ in 0..<clients { group.addTask { try await HTTPConnection.connect(host: "127.0.0.1", port: port) } }
            return try await group.reduce(into: [HTTPConnection]()) { $0.append($1) }
        }
        defer { for connection in connections { Task { await connection.close() } } }
        let started = ContinuousClock.now
        let deadline = started + duration
        let results = try await withTimeLimit("overload c=\(clients)", duration + .seconds(120)) {
            await withTaskGroup(of: (admitted: [Double], refused: Int, errors: Int).self) { group in
                for connection in connections {
                    group.addTask {
                        var admitted: [Double] = []
                        var refused = 0
                        var errors = 0
                        while ContinuousClock.now < deadline {
                            let sent = ContinuousClock.now
                            guard let response = try? await connection.request("GET", collection + "/overload-target") else {
                                errors += 1
                                break
                            }
                            switch response.status {
                            case 200: admitted.append(micros(ContinuousClock.now - sent))
                            case 429:
                                refused += 1
                                let wait = Int(response.header("Retry-After") ?? "1") ?? 1
                                try? await Task.sleep(for: .seconds(wait))
                            default: errors += 1
                            }
                        }
                        return (admitted, refused, errors)
                    }
                }
                return await group.reduce(into: (admitted: [Double](), refused: 0, errors: 0)) {
                    $0.admitted += $1.admitted
                    $0.refused += $1.refused
                    $0.errors += $1.errors
                }
            }
        }
        let seconds = micros(ContinuousClock.now - started) / 1e6
        return Outcome(
            clients: clients, seconds: seconds, admitted: results.admitted.count, refused: results.refused, errors: results.errors,
            admittedLatenciesMicros: results.admitted, peakRSSKiB: peakResidentKiB(pid: serverPID))
    }

    /// The object the clients read.
    static func seed(port: Int) async throws {
        let client = try await HTTPConnection.connect(host: "127.0.0.1", port: port)
        try await withCleanup {
            let response = try await client.request(
                "POST", collection, headers: [("Content-Type", "application/json")], body: backendBody("overload-target"))
            guard response.status == 201 || response.status == 409 else { throw BenchError(message: "seed: \(response.status)") }
        } cleanup: {
            await client.close()
        }
    }

    /// `VmHWM`: the most memory the process has held.
    static func peakResidentKiB(pid: Int32) -> Int {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return 0 }
        for line in status.split(separator: "\n") where line.hasPrefix("VmHWM:") {
            return Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "0") ?? 0
        }
        return 0
    }
}
