public import ApoxyStorage
import EtcdAPI
import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2Posix
public import Logging
public import ServiceLifecycle
import SwiftProtobuf
import Synchronization

/// `RevisionedStorage` on an etcd v3 cluster, as kube-apiserver stores objects: keys under a prefix, values as
/// given, `resourceVersion` = etcd's mod revision, guarded writes as transactions comparing mod revisions (409s come
/// from etcd), watch = etcd's watch, and 410 Gone from etcd's compaction. Any number of API servers can share one
/// cluster. A `Service`: run it (it runs the gRPC connections, the watches and the compactor) before use.
public final class EtcdStorage: RevisionedStorage, Service {
    let configuration: EtcdConfiguration
    /// The watch streams' client.
    let client: GRPCClient<HTTP2ClientTransport.Posix>
    /// Every other call's.
    let unaryClient: EtcdUnaryClient
    let logger: Logger
    let watches: WatchRegistry
    /// The cluster's version as a member reported it, once known.
    private let serverVersion = Mutex<String?>(nil)

    /// Creates a client of the cluster; nothing connects until `run()`.
    public init(configuration: EtcdConfiguration, logger: Logger) throws {
        self.configuration = configuration
        self.logger = logger
        watches = WatchRegistry(bufferLimit: configuration.watchBuffer)
        client = GRPCClient(transport: try EtcdTransport.make(configuration))
        unaryClient = try EtcdUnaryClient(configuration: configuration)
    }

    /// Runs the connections, every watch and the compactor until graceful shutdown or cancellation.
    public func run() async throws {
        try await withThrowingDiscardingTaskGroup { group in
            group.addTask { try await self.client.runConnections() }
            group.addTask { await self.learnServerVersion() }
            if let interval = configuration.compactionInterval, interval > .zero {
                group.addTask { await cancelWhenGracefulShutdown { await self.compactPeriodically(every: interval) } }
            }
            await withGracefulShutdownHandler {
                for await job in watches.jobs { group.addTask { await self.follow(job) } }
            } onGracefulShutdown: {
                self.watches.close()
            }
            watches.close()
            unaryClient.close()
            group.cancelAll()
        }
    }

    // MARK: Keys

    /// The etcd key of a storage key.
    func etcdKey(_ key: String) -> Data { Data((configuration.prefix + key).utf8) }

    /// The storage key of an etcd key under the prefix.
    func storageKey(_ key: Data) -> String {
        String(decoding: key.dropFirst(configuration.prefix.utf8.count), as: UTF8.self)
    }

    /// The end of the range of keys that start with `key` (etcd's `clientv3.GetPrefixRangeEnd`).
    static func prefixEnd(_ key: Data) -> Data {
        var end = Array(key)
        while let last = end.last {
            if last < 0xff {
                end[end.count - 1] = last + 1
                return Data(end)
            }
            end.removeLast()
        }
        return Data([0])
    }

    func stored(_ kv: Mvccpb_KeyValue) -> StoredObject {
        StoredObject(key: storageKey(kv.key), value: Array(kv.value), createRevision: kv.createRevision, modRevision: kv.modRevision)
    }

    // MARK: Reads

    public func get(key: String) async throws -> StoredObject? {
        var request = Etcdserverpb_RangeRequest()
        request.key = etcdKey(key)
        let response: Etcdserverpb_RangeResponse = try await call(EtcdMethods.range, request, key: key)
        return response.kvs.first.map(stored)
    }

    public func list(prefix: String, revision: Int64?, startAfter: String?, limit: Int?) async throws -> StorageListResult {
        var request = Etcdserverpb_RangeRequest()
        let start = etcdKey(prefix)
        request.rangeEnd = Self.prefixEnd(start)
        // A zero byte after the last key seen is the first key after it.
        if let startAfter {
            let next = etcdKey(startAfter) + Data([0])
            request.key = start.lexicographicallyPrecedes(next) ? next : start
        } else {
            request.key = start
        }
        request.revision = revision ?? 0
        request.limit = Int64(limit ?? 0)
        let response: Etcdserverpb_RangeResponse
        do {
            response = try await call(EtcdMethods.range, request, key: prefix)
        } catch let error as StorageError {
            switch error.code {
            case .futureRevision:
                throw StorageError(.futureRevision(current: try await currentRevision()), key: prefix, message: error.message)
            case .compacted:
                throw StorageError(.compacted(oldest: try await compactedRevision()), key: prefix, message: error.message)
            default:
                throw error
            }
        }
        let items = response.kvs.map(stored)
        return StorageListResult(
            items: items, revision: revision ?? response.header.revision, remaining: max(0, Int(response.count) - items.count))
    }

    /// The cluster's current revision, read linearizably (a count-only range of one key).
    public func currentRevision() async throws -> Int64 {
        var request = Etcdserverpb_RangeRequest()
        request.key = etcdKey("/")
        request.countOnly = true
        let response: Etcdserverpb_RangeResponse = try await call(EtcdMethods.range, request, key: "")
        return response.header.revision
    }

    public func changes(after revision: Int64, limit: Int) async throws -> [StorageChange] {
        let current = try await currentRevision()
        if revision >= current || limit <= 0 { return [] }
        let stream = try await watch(after: revision)
        var result: [StorageChange] = []
        var progressRequested = false
        for try await change in stream {
            if change.kind == .progress {
                if change.revision >= current { break }
                continue
            }
            result.append(change)
            if result.count >= limit || change.revision >= current { break }
            if !progressRequested {
                // The last revisions may belong to keys outside this storage's prefix: a progress report ends the read.
                progressRequested = true
                await requestWatchProgress()
            }
        }
        return result
    }

    // MARK: Writes

    public func create(key: String, value: [UInt8]) async throws -> StoredObject {
        var absent = Etcdserverpb_Compare()
        absent.key = etcdKey(key)
        absent.target = .create
        absent.result = .equal
        absent.createRevision = 0
        var put = Etcdserverpb_PutRequest()
        put.key = etcdKey(key)
        put.value = Data(value)
        var txn = Etcdserverpb_TxnRequest()
        txn.compare = [absent]
        txn.success = [.with { $0.requestPut = put }]
        let response: Etcdserverpb_TxnResponse = try await call(EtcdMethods.txn, txn, key: key)
        guard response.succeeded else { throw StorageError(.keyExists, key: key) }
        let revision = response.header.revision
        return StoredObject(key: key, value: value, createRevision: revision, modRevision: revision)
    }

    public func update(key: String, value: [UInt8], expectedRevision: Int64) async throws -> StoredObject {
        var put = Etcdserverpb_PutRequest()
        put.key = etcdKey(key)
        put.value = Data(value)
        put.prevKv = true
        let response = try await guardedWrite(key: key, expectedRevision: expectedRevision, .with { $0.requestPut = put })
        let previous = response.responses.first?.responsePut.prevKv
        return StoredObject(
            key: key, value: value, createRevision: previous?.createRevision ?? response.header.revision,
            modRevision: response.header.revision)
    }

    public func delete(key: String, expectedRevision: Int64?) async throws -> StorageChange {
        var delete = Etcdserverpb_DeleteRangeRequest()
        delete.key = etcdKey(key)
        delete.prevKv = true
        let response = try await guardedWrite(key: key, expectedRevision: expectedRevision, .with { $0.requestDeleteRange = delete })
        guard let last = response.responses.first?.responseDeleteRange.prevKvs.first else {
            throw StorageError(.keyNotFound, key: key)
        }
        var object = stored(last)
        object.modRevision = response.header.revision
        return StorageChange(kind: .delete, object: object)
    }

    /// Runs `operation` if `key` exists (at `expectedRevision`, when given); otherwise throws `.keyNotFound` or
    /// `.conflict` with the stored object, read in the same transaction.
    private func guardedWrite(
        key: String, expectedRevision: Int64?, _ operation: Etcdserverpb_RequestOp
    ) async throws -> Etcdserverpb_TxnResponse {
        var condition = Etcdserverpb_Compare()
        condition.key = etcdKey(key)
        if let expectedRevision {
            condition.target = .mod
            condition.result = .equal
            condition.modRevision = expectedRevision
        } else {
            condition.target = .create
            condition.result = .greater
            condition.createRevision = 0
        }
        var read = Etcdserverpb_RangeRequest()
        read.key = etcdKey(key)
        var txn = Etcdserverpb_TxnRequest()
        txn.compare = [condition]
        txn.success = [operation]
        txn.failure = [.with { $0.requestRange = read }]
        let response: Etcdserverpb_TxnResponse = try await call(EtcdMethods.txn, txn, key: key)
        if response.succeeded { return response }
        guard let current = response.responses.first?.responseRange.kvs.first else { throw StorageError(.keyNotFound, key: key) }
        throw StorageError(.conflict(current: stored(current)), key: key)
    }

    // MARK: Compaction

    public func compact(before revision: Int64) async throws {
        var request = Etcdserverpb_CompactionRequest()
        request.revision = revision
        do {
            let _: Etcdserverpb_CompactionResponse = try await call(EtcdMethods.compact, request, key: "")
        } catch let error as StorageError {
            // Another replica compacted as far already.
            if case .compacted = error.code { return }
            throw error
        }
    }

    /// etcd tells whether a revision is compacted, not which one is the oldest retained: a binary search of
    /// count-only reads finds it (about 30 cheap reads, only on the 410 path).
    public func compactedRevision() async throws -> Int64 {
        if try await isRetained(1) { return 0 }
        var (lost, kept) = (Int64(1), try await currentRevision())
        while kept - lost > 1 {
            let middle = lost + (kept - lost) / 2
            if try await isRetained(middle) { kept = middle } else { lost = middle }
        }
        return kept
    }

    /// Whether a read at `revision` still works (false: compacted; a future revision counts as retained).
    func isRetained(_ revision: Int64) async throws -> Bool {
        var request = Etcdserverpb_RangeRequest()
        request.key = etcdKey("/")
        request.countOnly = true
        request.revision = revision
        do {
            let _: Etcdserverpb_RangeResponse = try await call(EtcdMethods.range, request, key: "")
            return true
        } catch let error as StorageError {
            switch error.code {
            case .compacted: return false
            case .futureRevision: return true
            default: throw error
            }
        }
    }

    /// Throws `.compacted`, with the oldest retained revision, when `revision` is no longer readable.
    func checkRetained(_ revision: Int64) async throws {
        if try await !isRetained(revision) {
            let oldest = try await compactedRevision()
            throw StorageError(.compacted(oldest: oldest), message: "required revision \(revision) has been compacted")
        }
    }

    // MARK: Health

    /// Ready when a member answers Status within the request timeout and the cluster has a leader.
    public func checkReady() async throws {
        let status: Etcdserverpb_StatusResponse = try await call(EtcdMethods.status, Etcdserverpb_StatusRequest(), key: "")
        if status.leader == 0 { throw StorageError(.unavailable, message: "etcd has no leader") }
        if !status.errors.isEmpty { throw StorageError(.unavailable, message: "etcd: \(status.errors.joined(separator: "; "))") }
        serverVersion.withLock { $0 = status.version }
    }

    /// etcd before 3.5.13 (3.4.31 in the 3.4 line) can send a requested progress notification ahead of events it has
    /// not yet sent (etcd-io/etcd#15220), so kube-apiserver serves consistent reads from etcd there; so do we.
    public var watchReachesCurrentRevisionInOrder: Bool {
        guard let version = serverVersion.withLock({ $0 }) else { return false }
        return Self.hasOrderedProgress(version: version)
    }

    static func hasOrderedProgress(version: String) -> Bool {
        let parts = version.split(separator: ".").map { Int($0.prefix(while: \.isNumber)) ?? 0 }
        let (major, minor, patch) = (parts.count > 0 ? parts[0] : 0, parts.count > 1 ? parts[1] : 0, parts.count > 2 ? parts[2] : 0)
        if major != 3 { return major > 3 }
        switch minor {
        case ..<4: return false
        case 4: return patch >= 31
        case 5: return patch >= 13
        default: return true
        }
    }

    private func learnServerVersion() async {
        while !Task.isCancelled, serverVersion.withLock({ $0 }) == nil {
            do {
                try await checkReady()
                logger.info(
                    "connected to etcd",
                    metadata: [
                        "version": "\(serverVersion.withLock { $0 } ?? "")", "endpoints": "\(configuration.endpoints.map(\.description))",
                        "consistent_reads_from_cache": "\(watchReachesCurrentRevisionInOrder)",
                    ])
                return
            } catch {
                try? await Task.sleep(for: .milliseconds(500))
            }
        }
    }
}
