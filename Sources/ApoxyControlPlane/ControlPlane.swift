import ApoxyAPI
import ApoxyClient
public import ApoxyMetrics
public import ApoxyTranslation
public import ApoxyXDS
import EnvoyAPI
public import Foundation
import HashTreeCollections
public import Logging
import Prometheus
public import ServiceLifecycle
import SwiftProtobuf
import Synchronization

/// The control plane as a `Service`: watches Backends and HTTPRoutes on an API server, translates them into a
/// snapshot for the xDS server on every change (changes are coalesced), and writes each object's conditions back
/// through `/status` from the translation outcome and what Envoy acknowledged.
public struct ControlPlane: Service {
    /// Resource paths on the API server.
    static let backendsPath = Backend.descriptor.collectionPath
    static let routesPath = HTTPRoute.descriptor.collectionPath
    /// The controller name in route status, as Gateway API's `controllerName`.
    public static let controllerName = "apoxy.dev/backplane"

    let api: APIEndpoint
    let options: TranslatorOptions
    let snapshots: SnapshotStore
    let tracker: ProxyTracker
    let proxyName: String
    let logger: Logger
    let clock: @Sendable () -> Int64
    let translationDuration: ValueHistogram?
    /// The Envoy admin interface whose view of upstream hosts goes into `status.proxies[].endpoints`; nil: not read.
    let envoyAdmin: EnvoyAdminEndpoint?

    /// Creates a control plane; `proxyName` names the parent in route status; with `metrics`, translations are timed;
    /// with `envoyAdmin`, each Backend's status carries what that Envoy sees of its endpoints.
    public init(
        api: APIEndpoint, options: TranslatorOptions, snapshots: SnapshotStore, tracker: ProxyTracker,
        proxyName: String = "apoxy", metrics: MetricsRegistry? = nil, envoyAdmin: EnvoyAdminEndpoint? = nil, logger: Logger,
        clock: @escaping @Sendable () -> Int64 = { Int64(Date.now.timeIntervalSince1970) }
    ) {
        translationDuration = metrics?.histogram(
            "apoxy_translation_duration_seconds", "Time to translate one batch of changed Backends and HTTPRoutes into a snapshot update.",
            buckets: MetricsRegistry.fastDurationBuckets)
        self.api = api
        self.options = options
        self.snapshots = snapshots
        self.tracker = tracker
        self.proxyName = proxyName
        self.envoyAdmin = envoyAdmin
        self.logger = logger
        self.clock = clock
    }

    public func run() async throws {
        try await api.withConnection { connection in
            await run(on: connection)
        }
    }

    /// The watchers, the status writer, the endpoint-health reader and the translation loop, sharing one connection
    /// pool to the API server; returns on graceful shutdown.
    private func run(on connection: APIConnection) async {
        let (changes, changed) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        let (statusWork, statusNeeded) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        let backends = APIWatcher(
            api: connection, path: Self.backendsPath, logger: logger, changes: changed, statusChanges: statusNeeded)
        let routes = APIWatcher(api: connection, path: Self.routesPath, logger: logger, changes: changed, statusChanges: statusNeeded)
        let shared = SharedState()

        await withDiscardingTaskGroup { group in
            group.addTask { await backends.run() }
            group.addTask { await routes.run() }
            group.addTask {
                for await _ in tracker.changes() { statusNeeded.yield() }
            }
            if let envoyAdmin {
                group.addTask {
                    await EndpointHealthMonitor(admin: envoyAdmin, logger: logger).run { observed, clusters in
                        shared.record.withLock { record in
                            record.observedEndpoints = observed
                            // Only on a change of what Envoy sees, so walking every Backend here is rare.
                            for (name, outcome) in record.lastIR?.backends ?? [:]
                            where outcome.clusters.contains(where: clusters.contains) {
                                record.statusScope.backends.insert(name)
                            }
                        }
                        statusNeeded.yield()
                    }
                }
            }
            group.addTask {
                // Status writes need the objects' current status; they run apart so that a slow API server never
                // delays Envoy's configuration.
                let writer = StatusWriter(api: connection, logger: logger, clock: clock, proxyName: proxyName)
                // A pass looks only at what may have changed: objects the translation changed, objects whose stored
                // status changed, Backends still waiting for an ACK, and lost races. A proxy connecting or leaving
                // changes every object's Programmed: then, and on the first pass, it looks at everything.
                var seenNodes: Set<String>?
                var carried = StatusWriter.Scope()
                for await _ in statusWork {
                    let last = shared.record.withLock { record in
                        record.lastIR.map { ($0, record.programmed, record.observedEndpoints) }
                    }
                    guard let (ir, state, observed) = last, let currentBackends = backends.current,
                        let currentRoutes = routes.current
                    else { continue }
                    let nodes = tracker.connectedNodes
                    var scope = shared.record.withLock { record in
                        defer { record.statusScope = StatusWriter.Scope() }
                        return record.statusScope
                    }
                    scope.formUnion(carried)
                    scope.backends.formUnion(backends.takeStatusChanges())
                    scope.routes.formUnion(routes.takeStatusChanges())
                    let everything = seenNodes != Set(nodes.keys)
                    seenNodes = Set(nodes.keys)
                    guard everything || !scope.isEmpty else { continue }
                    let outcome = await writer.reconcile(
                        ir: ir, backends: currentBackends, routes: currentRoutes, scope: everything ? nil : scope,
                        programmed: state, nodes: nodes, observed: observed)
                    carried = outcome.conflicted
                    carried.backends.formUnion(outcome.awaiting)
                    if !outcome.conflicted.isEmpty {
                        // Another writer (a second backplane) changed the object: try again once its write has
                        // reached this watcher.
                        try? await Task.sleep(for: .milliseconds(200))
                        statusNeeded.yield()
                    }
                }
            }
            // The translation loop runs here; when graceful shutdown ends it, the watchers and writers stop too.
            await cancelWhenGracefulShutdown {
                var translator = IncrementalTranslator(options: options)
                for await _ in changes {
                    // Both lists must have arrived, or the first snapshot would drop every route or Backend.
                    guard backends.current != nil, routes.current != nil,
                        let changedBackends = backends.takeChanges(), let changedRoutes = routes.takeChanges()
                    else { continue }
                    var source = SourceChanges()
                    for (name, object) in changedBackends { source.backends[name] = .some(object.map(Backend.init(json:))) }
                    for (name, object) in changedRoutes { source.routes[name] = .some(object.map(RouteSource.init(httpRoute:))) }
                    guard !source.isEmpty else { continue }
                    if !translate(source, with: &translator, shared: shared) {
                        // The translator may hold half of a change: start over from every object.
                        translator = IncrementalTranslator(options: options)
                        backends.markAllChanged()
                        routes.markAllChanged()
                        changed.yield()
                    }
                    statusNeeded.yield()
                }
            }
            group.cancelAll()
        }
    }

    /// What the translation loop hands to the status loop: the last translation and the Programmed bookkeeping,
    /// always updated and read together.
    final class SharedState: Sendable {
        struct Record {
            var programmed = ProgrammedState()
            var lastIR: GatewayIR?
            /// What the Envoy admin interface last showed of each cluster's hosts (nil when it is not read).
            var observedEndpoints: [String: [ObservedEndpoint]]?
            /// Objects whose outcome changed since the status loop last looked.
            var statusScope = StatusWriter.Scope()
        }
        let record = Mutex(Record())
    }

    /// Translates what changed and publishes the resources it changed; false when the translation failed.
    func translate(_ source: SourceChanges, with translator: inout IncrementalTranslator, shared: SharedState) -> Bool {
        let started = ContinuousClock.now
        do {
            let changes = try translator.apply(source)
            var update = ResourceUpdate()
            update.upserts[.cluster] = try changes.clusters.mapValues { try Google_Protobuf_Any(message: $0) }
            update.removals[.cluster] = changes.removedClusters
            update.upserts[.endpoint] = try changes.loadAssignments.mapValues { try Google_Protobuf_Any(message: $0) }
            update.removals[.endpoint] = changes.removedLoadAssignments
            if let listener = changes.listener {
                update.upserts[.listener] = [listener.name: try Google_Protobuf_Any(message: listener)]
            }
            if let routes = changes.routeConfiguration { update.upserts[.routeConfiguration] = [options.routeConfigurationName: routes] }
            translationDuration?.record(ContinuousClock.now - started)
            let version = update.isEmpty ? nil : snapshots.apply(update, startedAt: started)
            let served = UInt64(version ?? snapshots.current.version) ?? 0
            let outcomes = translator.outcomes
            shared.record.withLock { record in
                record.programmed.record(
                    backends: changes.backends, routes: changes.routes, outcomes: outcomes, version: served,
                    published: version != nil, startedAt: started)
                record.lastIR = outcomes
                record.statusScope.backends.formUnion(changes.backends)
                record.statusScope.routes.formUnion(changes.routes)
            }
            if let version {
                logger.info(
                    "published snapshot",
                    metadata: [
                        "version": "\(version)", "changed_clusters": "\(changes.clusters.count)",
                        "removed_clusters": "\(changes.removedClusters.count)",
                        "changed_load_assignments": "\(changes.loadAssignments.count)",
                        "backends": "\(outcomes.backends.count)", "routes": "\(outcomes.routes.count)",
                        "translation_ms": "\((ContinuousClock.now - started).fractionalMilliseconds)",
                    ])
            }
            return true
        } catch {
            // Packing a built resource failed, which is a bug; keep serving the last good snapshot.
            logger.error("translation produced an unusable snapshot; keeping the previous one", metadata: ["error": "\(error)"])
            return false
        }
    }
}

extension Duration {
    /// Whole milliseconds, for logs.
    var milliseconds: Int64 { components.seconds * 1000 + components.attoseconds / 1_000_000_000_000_000 }

    /// Milliseconds to the microsecond, for logs of changes that take less than one.
    var fractionalMilliseconds: String {
        String(format: "%.3f", Double(components.seconds) * 1000 + Double(components.attoseconds) / 1e15)
    }
}
