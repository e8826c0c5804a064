public import Prometheus
import Synchronization

/// The process's metrics in one Prometheus registry (swift-prometheus), with the HELP texts operators expect, and
/// hooks that bring gauges up to date just before each scrape (values that are cheaper to read than to track).
public final class MetricsRegistry: Sendable {
    /// kube-apiserver's request-duration buckets, in seconds.
    public static let requestDurationBuckets: [Double] = [
        0.005, 0.025, 0.05, 0.1, 0.2, 0.4, 0.6, 0.8, 1.0, 1.25, 1.5, 2, 3, 4, 5, 6, 8, 10, 15, 20, 30, 45, 60,
    ]
    /// Buckets for short internal latencies (commits, translations, xDS propagation), in seconds.
    public static let fastDurationBuckets: [Double] = [
        0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
    ]

    /// The underlying registry.
    public let prometheus = PrometheusCollectorRegistry()
    private let scrapeHooks = Mutex<[@Sendable () async -> Void]>([])

    /// Creates an empty registry.
    public init() {}

    /// A counter (created once per name and label set).
    public func counter(_ name: String, _ help: String, labels: [(String, String)] = []) -> Counter {
        prometheus.makeCounter(descriptor: MetricNameDescriptor(name, help), labels: labels)
    }

    /// A gauge (created once per name and label set).
    public func gauge(_ name: String, _ help: String, labels: [(String, String)] = []) -> Gauge {
        prometheus.makeGauge(descriptor: MetricNameDescriptor(name, help), labels: labels)
    }

    /// A histogram of seconds or of counts (created once per name and label set).
    public func histogram(_ name: String, _ help: String, buckets: [Double], labels: [(String, String)] = []) -> ValueHistogram {
        prometheus.makeValueHistogram(descriptor: MetricNameDescriptor(name, help), labels: labels, buckets: buckets)
    }

    /// Runs `hook` before every exposition, e.g. to set a gauge from a cache's size.
    public func beforeScrape(_ hook: @escaping @Sendable () async -> Void) {
        scrapeHooks.withLock { $0.append(hook) }
    }

    /// The text exposition format (version 0.0.4), after the scrape hooks ran.
    public func exposition() async -> [UInt8] {
        for hook in scrapeHooks.withLock({ $0 }) { await hook() }
        return prometheus.emitToBuffer()
    }

    /// The media type of `exposition()`.
    public static let contentType = "text/plain; version=0.0.4; charset=utf-8"
}

extension MetricNameDescriptor {
    init(_ name: String, _ help: String) {
        // The whole name is given, so no unit suffix is appended.
        self.init(metricName: name, unitName: "", helpText: help)
    }
}

extension ValueHistogram {
    /// Records a duration in seconds.
    public func record(_ duration: Duration) {
        let (seconds, attoseconds) = duration.components
        record(Double(seconds) + Double(attoseconds) / 1e18)
    }
}
