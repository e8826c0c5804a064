public import ApoxyMetrics
import Prometheus

/// What group commit costs: each transaction's duration (BEGIN to COMMIT, fsync included) and how many writes it
/// carried.
public struct StorageMetrics: Sendable {
    let commitDuration: ValueHistogram
    let batchSize: ValueHistogram

    /// Creates the metrics in `registry`.
    public init(registry: MetricsRegistry) {
        commitDuration = registry.histogram(
            "apoxy_storage_commit_duration_seconds", "Duration of one storage transaction, from begin to durable commit.",
            buckets: MetricsRegistry.fastDurationBuckets)
        batchSize = registry.histogram(
            "apoxy_storage_commit_batch_size", "Writes carried by one storage transaction (group commit).",
            buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256, 512])
    }

    func recordCommit(writes: Int, duration: Duration) {
        commitDuration.record(duration)
        batchSize.record(Double(writes))
    }
}
