import ApoxyAPI
public import ApoxyMetrics
import Prometheus
import Synchronization

/// kube-apiserver's request metrics, by its names and labels, so dashboards and alerts written for kube work on us.
public struct APIMetrics: Sendable {
    /// Where the metrics are kept and exposed.
    public let registry: MetricsRegistry
    /// The two request metrics of each label set seen, so a request costs one lookup instead of the registry's
    /// per-call validation of names and labels.
    private let handles = Handles()

    /// What distinguishes one request's samples.
    struct RequestKey: Hashable {
        var verb: String
        var dryRun: Bool
        var group: String
        var version: String
        var resource: String
        var subresource: String
        var scope: String
        var code: Int
    }

    final class Handles: Sendable {
        let byKey = Mutex<[RequestKey: (Counter, ValueHistogram)]>([:])
    }

    /// Creates the metrics in `registry`.
    public init(registry: MetricsRegistry) {
        self.registry = registry
    }

    /// Counts a finished request and records its duration.
    func record(verb: String, dryRun: Bool, access: AccessAttributes, code: Int, duration: Duration) {
        let key = RequestKey(
            verb: verb, dryRun: dryRun, group: access.apiGroup, version: access.apiVersion, resource: access.resource,
            subresource: access.subresource, scope: Self.scope(access), code: code)
        let (counter, histogram) =
            handles.byKey.withLock { $0[key] }
            ?? {
                let labels = Self.labels(verb: verb, dryRun: dryRun, access: access)
                let made = (requestCounter(labels: labels, code: code), requestHistogram(labels: labels))
                handles.byKey.withLock { $0[key] = made }
                return made
            }()
        counter.increment()
        histogram.record(duration)
    }

    /// kube's reported verb (`cleanVerb`): the method upper-cased, a collection GET as LIST or WATCH, an apply patch
    /// as APPLY.
    static func reportedVerb(method: String, access: AccessAttributes, contentType: String?) -> String {
        switch access.verb {
        case "list": return "LIST"
        case "watch": return "WATCH"
        case "patch" where contentType?.hasPrefix("application/apply-patch") == true: return "APPLY"
        default: return method.uppercased()
        }
    }

    /// kube's `scope` label: `resource` for a named object, `cluster` for a cluster-scoped collection, empty otherwise.
    static func scope(_ access: AccessAttributes) -> String {
        guard access.isResourceRequest else { return "" }
        return access.name.isEmpty ? "cluster" : "resource"
    }

    /// The labels kube puts on both request metrics, `code` aside.
    static func labels(verb: String, dryRun: Bool, access: AccessAttributes) -> [(String, String)] {
        [
            ("verb", verb), ("dry_run", dryRun ? "All" : ""), ("group", access.apiGroup), ("version", access.apiVersion),
            ("resource", access.resource), ("subresource", access.subresource), ("scope", scope(access)),
            ("component", "apiserver"),
        ]
    }

    func requestCounter(labels: [(String, String)], code: Int) -> Counter {
        registry.counter(
            "apiserver_request_total",
            "Counter of apiserver requests broken out for each verb, dry run value, group, version, resource, scope, component, and HTTP response code.",
            labels: labels + [("code", String(code))])
    }

    func requestHistogram(labels: [(String, String)]) -> ValueHistogram {
        registry.histogram(
            "apiserver_request_duration_seconds",
            "Response latency distribution in seconds for each verb, dry run value, group, version, resource, subresource, scope and component.",
            buckets: MetricsRegistry.requestDurationBuckets, labels: labels)
    }

    /// The in-flight gauge of one kind of request (`readOnly` or `mutating`), as kube's max-in-flight filter reports.
    func inflight(_ kind: String) -> Gauge {
        registry.gauge(
            "apiserver_current_inflight_requests",
            "Maximal number of currently used inflight request limit of this apiserver per request kind in last second.",
            labels: [("request_kind", kind)])
    }

    /// The number of stored objects of one resource (`backends.core.apoxy.dev`).
    func storageObjects(_ resource: String) -> Gauge {
        registry.gauge(
            "apiserver_storage_objects", "Number of stored objects at the time of last check split by kind.",
            labels: [("resource", resource)])
    }

    /// Open watches of one kind.
    func registeredWatchers(_ descriptor: ResourceDescriptor) -> Gauge {
        registry.gauge(
            "apiserver_registered_watchers", "Number of currently registered watchers for a given resources",
            labels: [("group", descriptor.group), ("version", descriptor.version), ("kind", descriptor.kind)])
    }

    /// Events sent to watchers of one kind.
    func watchEvents(_ descriptor: ResourceDescriptor) -> Counter {
        registry.counter(
            "apiserver_watch_events_total", "Number of events sent in watch clients",
            labels: [("group", descriptor.group), ("version", descriptor.version), ("kind", descriptor.kind)])
    }
}
