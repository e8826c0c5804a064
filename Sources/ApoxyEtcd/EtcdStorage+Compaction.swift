import ApoxyStorage
import EtcdAPI
import Foundation
import Logging
import SwiftProtobuf

extension EtcdStorage {
    /// The key replicas agree on compaction through: kube-apiserver's own, so apoxy and kube-apiserver sharing a
    /// cluster coordinate too.
    static let compactRevisionKey = Data("compact_rev_key".utf8)

    /// kube-apiserver's compactor (k8s.io/apiserver/pkg/storage/etcd3/compact.go): every interval, the replica that
    /// wins a compare-and-swap on `compact_rev_key` compacts to the revision recorded one interval before, so at
    /// least one interval of history is kept however many replicas run.
    func compactPeriodically(every interval: Duration) async {
        var knownVersion: Int64 = 0
        var lastRevision: Int64 = 0
        while !Task.isCancelled {
            try? await Task.sleep(for: interval)
            if Task.isCancelled { return }
            do {
                (knownVersion, lastRevision) = try await compactStep(knownVersion: knownVersion, previousRevision: lastRevision)
            } catch {
                logger.warning("etcd compaction failed", metadata: ["error": "\(error)"])
            }
        }
    }

    /// One round: returns the key's version and the current revision to remember for the next round.
    func compactStep(knownVersion: Int64, previousRevision: Int64) async throws -> (version: Int64, revision: Int64) {
        var unchanged = Etcdserverpb_Compare()
        unchanged.key = Self.compactRevisionKey
        unchanged.target = .version
        unchanged.result = .equal
        unchanged.version = knownVersion
        var put = Etcdserverpb_PutRequest()
        put.key = Self.compactRevisionKey
        put.value = Data(String(previousRevision).utf8)
        var read = Etcdserverpb_RangeRequest()
        read.key = Self.compactRevisionKey
        var txn = Etcdserverpb_TxnRequest()
        txn.compare = [unchanged]
        txn.success = [.with { $0.requestPut = put }]
        txn.failure = [.with { $0.requestRange = read }]
        let response: Etcdserverpb_TxnResponse = try await call(EtcdMethods.txn, txn, key: "compact_rev_key")
        let current = response.header.revision
        guard response.succeeded else {
            // Another replica compacted this round; follow its count.
            return (response.responses.first?.responseRange.kvs.first?.version ?? knownVersion, current)
        }
        if previousRevision > 0 {
            try await compact(before: previousRevision)
            logger.info("compacted etcd history", metadata: ["before": "\(previousRevision)"])
        }
        return (knownVersion + 1, current)
    }
}
