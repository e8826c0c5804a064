import ApoxyAPI
import ApoxyClient
import ApoxyStorage
import Foundation
import NIOCore
import NIOSSL

#if canImport(Glibc)
    import Glibc
#endif

let collection = Backend.descriptor.collectionPath

/// A Backend request body like the ones users send.
func backendBody(_ name: String, protocol p: String = "tls", resourceVersion: String? = nil) -> [UInt8] {
    var metadata: JSONValue = ["name": .string(name), "labels": ["app": "bench", "tier": "edge"]]
    if let resourceVersion { metadata["resourceVersion"] = .string(resourceVersion) }
    let object: JSONValue = [
        "apiVersion": "core.apoxy.dev/v1alpha2", "kind": "Backend", "metadata": metadata,
        "spec": ["endpoints": [["ip": "10.0.0.1"], ["fqdn": "api.example.com"]], "protocol": .string(p)],
    ]
    return object.serialized()
}

/// Runs `work(worker, index)` for `operations` indexes spread over `concurrency` workers; returns the measurement.
/// Throws when the step takes longer than `StepLimit.limit`.
func measure(
    _ name: String, concurrency: Int, operations: Int, _ work: @escaping @Sendable (Int, Int) async throws -> Void
) async throws -> Measurement {
    let start = ContinuousClock.now
    let cpu = StepCPU.start()
    let latencies = try await withTimeLimit(name, StepLimit.limit) {
        try await withThrowingTaskGroup(of: [Double].self) { group in
            for worker in 0..<concurrency {
                group.addTask {
                    var samples: [Double] = []
                    var index = worker
                    while index < operations {
                        let began = ContinuousClock.now
                        try await work(worker, index)
                        samples.append(micros(ContinuousClock.now - began))
                        index += concurrency
                    }
                    return samples
                }
            }
            return try await group.reduce(into: [Double]()) { $0 += $1 }
        }
    }
    return Measurement(
        name: name, operations: operations, seconds: micros(ContinuousClock.now - start) / 1e6, latenciesMicros: latencies,
        cpu: StepCPU.finish(cpu))
}

/// Durable single-object inserts and updates through `SQLiteStorage`, the server's own storage path minus HTTP.
enum RawStorageBench {
    static func run(directory: URL, concurrency: Int, operations: Int) async throws -> [Measurement] {
        let path = directory.appendingPathComponent("raw-\(concurrency).sqlite").path
        let storage = try SQLiteStorage(path: path)
        let value = backendBody("raw")
        let revisions = RevisionBox(count: operations)
        let insert = try await measure("raw sqlite insert c=\(concurrency)", concurrency: concurrency, operations: operations) { _, i in
            revisions.set(i, try await storage.create(key: "/bench/raw/\(i)", value: value).modRevision)
        }
        let update = try await measure("raw sqlite update c=\(concurrency)", concurrency: concurrency, operations: operations) { _, i in
            revisions.set(i, try await storage.update(key: "/bench/raw/\(i)", value: value, expectedRevision: revisions.get(i)).modRevision)
        }
        await storage.close()
        return [insert, update]
    }
}

/// Per-index revisions shared by worker tasks (each index is touched by one worker at a time).
final class RevisionBox: @unchecked Sendable {
    private var values: [Int64]
    private let lock = NSLock()
    init(count: Int) { values = Array(repeating: 0, count: count) }
    func set(_ i: Int, _ v: Int64) {
        lock.lock()
        values[i] = v
        lock.unlock()
    }
    func get(_ i: Int) -> Int64 {
        lock.lock()
        defer { lock.unlock() }
        return values[i]
    }
}

/// The API over HTTP with keep-alive connections.
enum APIBench {
    static func connections(_ port: Int, _ count: Int, tls: TLSConfiguration? = nil) async throws -> [HTTPConnection] {
        var result: [HTTPConnection] = []
        for _ in 0..<count { result.append(try await HTTPConnection.connect(host: "127.0.0.1", port: port, tls: tls)) }
        return result
    }

    static func expect(_ response: HTTPClientResponse, _ status: Int, _ what: String) throws {
        guard response.status == status else {
            throw BenchError(message: "\(what): expected \(status), got \(response.status): \(response.text.prefix(300))")
        }
    }

    /// Create, get, update (PUT), merge patch and delete of `operations` Backends; steps are named "`label` create
    /// c=N" and so on ("api" on SQLite, "api etcd" on etcd).
    static func crud(port: Int, concurrency: Int, operations: Int, prefix: String, label: String = "api") async throws -> [Measurement] {
        let clients = try await connections(port, concurrency)
        defer { for c in clients { Task { await c.close() } } }
        let versions = RevisionBox(count: operations)
        let json = [("Content-Type", "application/json")]
        @Sendable func version(_ response: HTTPClientResponse) -> Int64 {
            (try? JSONValue.parse(response.body).value["metadata"]?["resourceVersion"]?.stringValue).flatMap { $0.flatMap { Int64($0) } }
                ?? 0
        }
        let create = try await measure("\(label) create c=\(concurrency)", concurrency: concurrency, operations: operations) { w, i in
            let response = try await clients[w].request("POST", collection, headers: json, body: backendBody("\(prefix)-\(i)"))
            try expect(response, 201, "create")
            versions.set(i, version(response))
        }
        let get = try await measure("\(label) get c=\(concurrency)", concurrency: concurrency, operations: operations) { w, i in
            try expect(try await clients[w].request("GET", collection + "/\(prefix)-\(i)"), 200, "get")
        }
        let update = try await measure("\(label) update (PUT) c=\(concurrency)", concurrency: concurrency, operations: operations) { w, i in
            let body = backendBody("\(prefix)-\(i)", protocol: "h2", resourceVersion: String(versions.get(i)))
            let response = try await clients[w].request("PUT", collection + "/\(prefix)-\(i)", headers: json, body: body)
            try expect(response, 200, "update")
            versions.set(i, version(response))
        }
        let patch = try await measure("\(label) merge patch c=\(concurrency)", concurrency: concurrency, operations: operations) { w, i in
            let body = Array(#"{"metadata":{"labels":{"patched":"yes"}}}"#.utf8)
            try expect(
                try await clients[w].request(
                    "PATCH", collection + "/\(prefix)-\(i)", headers: [("Content-Type", "application/merge-patch+json")], body: body),
                200, "patch")
        }
        let delete = try await measure("\(label) delete c=\(concurrency)", concurrency: concurrency, operations: operations) { w, i in
            try expect(try await clients[w].request("DELETE", collection + "/\(prefix)-\(i)"), 200, "delete")
        }
        return [create, get, update, patch, delete]
    }

    static func getLatency(port: Int, concurrency: Int, operations: Int, label: String = "api") async throws -> Measurement {
        let clients = try await connections(port, concurrency)
        defer { for c in clients { Task { await c.close() } } }
        let seed = try await clients[0].request(
            "POST", collection, headers: [("Content-Type", "application/json")], body: backendBody("get-target"))
        try expect(seed, 201, "create")
        return try await measure("\(label) get c=\(concurrency) (p99 target)", concurrency: concurrency, operations: operations * 2) {
            w, _ in
            try expect(try await clients[w].request("GET", collection + "/get-target"), 200, "get")
        }
    }

    static func count(port: Int) async throws -> Int {
        let client = try await HTTPConnection.connect(host: "127.0.0.1", port: port)
        return try await withCleanup {
            let page = try JSONValue.parse(try await client.request("GET", collection + "?limit=1").body).value
            return (page["items"]?.arrayValue?.count ?? 0) + Int(page["metadata"]?["remainingItemCount"]?.integerValue ?? 0)
        } cleanup: {
            await client.close()
        }
    }

    static func populate(port: Int, to target: Int) async throws {
        let existing = try await count(port: port)
        guard target > existing else { return }
        let clients = try await connections(port, 32)
        defer { for c in clients { Task { await c.close() } } }
        _ = try await measure("populate", concurrency: 32, operations: target - existing) { w, i in
            try expect(
                try await clients[w].request(
                    "POST", collection, headers: [("Content-Type", "application/json")], body: backendBody("fill-\(existing + i)")),
                201, "populate")
        }
    }

    static func list(port: Int, expected: Int, iterations: Int) async throws -> Measurement {
        let client = try await HTTPConnection.connect(host: "127.0.0.1", port: port)
        return try await withCleanup {
            let check = try JSONValue.parse(try await client.request("GET", collection).body).value
            let items = check["items"]?.arrayValue?.count ?? -1
            guard items == expected else { throw BenchError(message: "list returned \(items) items, expected \(expected)") }
            var result = try await measure("api list \(expected) objects", concurrency: 1, operations: iterations) { _, _ in
                try expect(try await client.request("GET", collection), 200, "list")
            }
            result.note = "body verified: \(items) items"
            return result
        } cleanup: {
            await client.close()
        }
    }
}

/// Watch fan-out: delivery latency from a write's acknowledgement to each watcher's receipt of its event.
enum WatchBench {
    static func run(port: Int, watchers: Int, updates: Int, rate: Int) async throws -> Measurement {
        let writer = try await HTTPConnection.connect(host: "127.0.0.1", port: port)
        return try await withCleanup {
            let created = try await writer.request(
                "POST", collection, headers: [("Content-Type", "application/json")], body: backendBody("watched"))
            try APIBench.expect(created, 201, "create watched")
            let start = try JSONValue.parse(created.body).value["metadata"]?["resourceVersion"]?.stringValue ?? "0"
            let fanIn = try WatchFanIn(
                port: port, path: collection + "?watch=true&resourceVersion=\(start)&fieldSelector=metadata.name%3Dwatched", count: watchers
            )
            let acks = AckLog()
            let cpuBefore = StepCPU.start()
            let began = ContinuousClock.now
            let (receipts, writeDuration) = try await withThrowingTaskGroup(of: WatchFanIn.Receipts?.self) { group in
                group.addTask { await fanIn.receive(expected: updates) }
                let interval = Duration.microseconds(1_000_000 / max(rate, 1))
                for i in 0..<updates {
                    let body = Array(#"{"metadata":{"labels":{"step":"\#(i)"}}}"#.utf8)
                    let response = try await writer.request(
                        "PATCH", collection + "/watched", headers: [("Content-Type", "application/merge-patch+json")], body: body)
                    let acked = ContinuousClock.now
                    try APIBench.expect(response, 200, "patch watched")
                    if let rv = (try? JSONValue.parse(response.body).value["metadata"]?["resourceVersion"]?.stringValue)?.flatMap({
                        Int64($0)
                    }) {
                        acks.record(rv, acked)
                    }
                    try await Task.sleep(until: began + interval * (i + 1), clock: .continuous)
                }
                let writing = ContinuousClock.now - began
                // Give stragglers a moment, then stop reading.
                group.addTask {
                    try? await Task.sleep(for: .seconds(2))
                    fanIn.requestStop()
                    return nil
                }
                var all: WatchFanIn.Receipts = []
                for try await r in group { if let r { all = r } }
                return (all, writing)
            }
            let cpu = StepCPU.finish(cpuBefore)
            var latencies: [Double] = []
            var behind = 0
            var early = 0
            let ackTimes = acks.snapshot()
            for watcher in receipts {
                let got = Dictionary(watcher.map { ($0.0, $0.1) }, uniquingKeysWith: { a, _ in a })
                if ackTimes.keys.contains(where: { got[$0] == nil }) { behind += 1 }
                for (rv, ack) in ackTimes {
                    guard let received = got[rv] else { continue }
                    let latency = micros(received - ack)
                    if latency < 0 { early += 1 }
                    latencies.append(max(0, latency))
                }
            }
            return Measurement(
                name: "watch delivery, \(watchers) watchers", operations: latencies.count, seconds: micros(writeDuration) / 1e6,
                latenciesMicros: latencies,
                note: "\(updates) updates at \(rate)/s; watchers behind: \(behind); delivered before the ack: \(early)", cpu: cpu)
        } cleanup: {
            await writer.close()
        }
    }
}

typealias NIOCoreByteBuffer = NIOCore.ByteBuffer

/// Acknowledgement times by resourceVersion.
final class AckLog: @unchecked Sendable {
    private var times: [Int64: ContinuousClock.Instant] = [:]
    private let lock = NSLock()
    func record(_ rv: Int64, _ at: ContinuousClock.Instant) {
        lock.lock()
        times[rv] = at
        lock.unlock()
    }
    func snapshot() -> [Int64: ContinuousClock.Instant] {
        lock.lock()
        defer { lock.unlock() }
        return times
    }
}

struct BenchError: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}
