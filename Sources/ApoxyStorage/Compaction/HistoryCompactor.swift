public import Logging
public import ServiceLifecycle

/// How much change history a store keeps for watches and lists at older revisions.
public enum HistoryRetention: Sendable, Equatable, CustomStringConvertible {
    /// The last N revisions.
    case revisions(Int64)
    /// The revisions written during the last interval (kube-apiserver compacts etcd every 5 minutes this way).
    case duration(Duration)
    /// Everything, forever.
    case unlimited

    public var description: String {
        switch self {
        case .revisions(let count): "\(count) revisions"
        case .duration(let duration): "\(duration)"
        case .unlimited: "unlimited"
        }
    }
}

/// Compacts a store's history on a schedule, so the change log stays bounded under churn while every revision
/// within the retention stays readable (older ones answer 410 Gone).
public struct HistoryCompactor: Service {
    let storage: any RevisionedStorage
    let retention: HistoryRetention
    let checkInterval: Duration
    let logger: Logger

    /// Creates a compactor that looks every `checkInterval` (by default a tenth of a duration retention, at least
    /// a second, and a second for a revision count).
    public init(storage: any RevisionedStorage, retention: HistoryRetention, checkInterval: Duration? = nil, logger: Logger) {
        self.storage = storage
        self.retention = retention
        self.logger = logger
        switch retention {
        case .duration(let duration): self.checkInterval = checkInterval ?? max(duration / 10, .seconds(1))
        case .revisions, .unlimited: self.checkInterval = checkInterval ?? .seconds(1)
        }
    }

    public func run() async throws {
        if retention == .unlimited { return }
        let clock = ContinuousClock()
        await cancelWhenGracefulShutdown {
            var schedule = CompactionSchedule(retention: retention)
            while !Task.isCancelled {
                do {
                    let current = try await storage.currentRevision()
                    if let target = schedule.target(current: current, now: clock.now) {
                        try await storage.compact(before: target)
                        logger.debug("compacted history", metadata: ["before": "\(target)", "current": "\(current)"])
                    }
                } catch {
                    logger.warning("history compaction failed", metadata: ["error": "\(error)"])
                }
                try? await Task.sleep(for: checkInterval)
            }
        }
    }
}

/// When to compact and to which revision, from observed (time, revision) samples: a pure state machine.
struct CompactionSchedule {
    let retention: HistoryRetention
    private var samples: [(time: ContinuousClock.Instant, revision: Int64)] = []
    private var compacted: Int64 = 0

    init(retention: HistoryRetention) { self.retention = retention }

    /// The revision to compact before, if it moved since the last compaction.
    mutating func target(current: Int64, now: ContinuousClock.Instant) -> Int64? {
        let target: Int64
        switch retention {
        case .unlimited:
            return nil
        case .revisions(let count):
            target = current - count + 1
        case .duration(let duration):
            samples.append((now, current))
            // The newest revision that was already current one retention ago is the oldest one to keep.
            guard let index = samples.lastIndex(where: { now - $0.time >= duration }) else { return nil }
            target = samples[index].revision
            samples.removeFirst(index)
        }
        guard target > compacted, target > 1 else { return nil }
        compacted = target
        return target
    }
}
