public import ApoxyMetrics
import Prometheus

/// What the xDS server does, per resource type: pushes, Envoy's rejections, and how long a change took from the
/// start of its translation to each proxy's ACK; plus the proxies connected.
public struct XDSMetrics: Sendable {
    private let pushes: [XDSType: Counter]
    private let rejects: [XDSType: Counter]
    private let propagation: [XDSType: ValueHistogram]

    /// Creates the metrics in `registry`; the connected-proxies gauge is read from `tracker` at each scrape.
    public init(registry: MetricsRegistry, tracker: ProxyTracker) {
        func byType<M>(_ make: (String) -> M) -> [XDSType: M] {
            Dictionary(uniqueKeysWithValues: XDSType.allCases.map { ($0, make($0.metricLabel)) })
        }
        pushes = byType {
            registry.counter("apoxy_xds_pushes_total", "xDS responses sent to proxies, by type.", labels: [("type", $0)])
        }
        rejects = byType {
            registry.counter("apoxy_xds_rejects_total", "xDS responses proxies rejected (NACK), by type.", labels: [("type", $0)])
        }
        propagation = byType {
            registry.histogram(
                "apoxy_xds_propagation_seconds",
                "Time from the start of a change's translation to a proxy's ACK of the version carrying it, by type.",
                buckets: MetricsRegistry.fastDurationBuckets, labels: [("type", $0)])
        }
        let connected = registry.gauge("apoxy_xds_connected_proxies", "Proxies (node ids) with an open ADS stream.")
        registry.beforeScrape { connected.set(Int64(tracker.connectedNodes.count)) }
    }

    func pushed(_ type: XDSType) { pushes[type]?.increment() }
    func rejected(_ type: XDSType) { rejects[type]?.increment() }
    func acknowledged(_ type: XDSType, after duration: Duration) { propagation[type]?.record(duration) }
}

extension XDSType {
    /// The `type` label: Envoy's short names in lower case, as Istio and Envoy Gateway label them.
    var metricLabel: String { shortName.lowercased() }
}
