import ApoxyAPI
import ApoxyTranslation
import ApoxyXDS
import HashTreeCollections

/// Which snapshot version first carried each generation of each object, so that an Envoy ACK of a version can be
/// turned into "generation N is programmed", and a NACK into "generation N was rejected".
struct ProgrammedState: Sendable {
    struct Published: Sendable {
        var generation: Int64
        var version: UInt64
        /// Cluster names of the object in that version, to blame it for a NACK that names one.
        var clusters: [String]
        /// Whether those clusters take their endpoints over EDS: then a proxy has the object only once it has
        /// acknowledged EDS too. Other objects ignore EDS on a proxy that never subscribed to it (Envoy asks for
        /// load assignments only once it has an EDS cluster).
        var needsEndpoints = false
        /// When the translation that first carried this generation began (the control plane had just seen it).
        var startedAt: ContinuousClock.Instant?
    }

    /// Per object key (`backend/<name>` or `route/<name>`), the generations seen, oldest first (bounded).
    private(set) var history: [String: [Published]] = [:]
    /// Versions in which each object's resources changed.
    private(set) var changedIn: [UInt64: Set<String>] = [:]

    /// Records a whole translation served under `version` (the new snapshot's, or the current one when nothing
    /// changed): every object in `ir`, and every other object forgotten.
    mutating func record(ir: GatewayIR, version: UInt64, published: Bool, startedAt: ContinuousClock.Instant? = nil) {
        var backends = Set(ir.backends.keys)
        var routes = Set(ir.routes.keys)
        for key in history.keys {
            if key.hasPrefix("backend/") { backends.insert(String(key.dropFirst(8))) }
            if key.hasPrefix("route/") { routes.insert(String(key.dropFirst(6))) }
        }
        record(backends: backends, routes: routes, outcomes: ir, version: version, published: published, startedAt: startedAt)
    }

    /// Records the objects an incremental translation changed (those missing from `outcomes` were deleted); its cost
    /// follows the change, not the number of objects.
    mutating func record(
        backends: Set<String>, routes: Set<String>, outcomes: GatewayIR, version: UInt64, published: Bool,
        startedAt: ContinuousClock.Instant? = nil
    ) {
        var changed: Set<String> = []
        for name in backends {
            if let outcome = outcomes.backends[name] {
                changed.formUnion(
                    note(
                        "backend/\(name)", outcome.generation, version, outcome.clusters, outcome.usesEndpointDiscovery,
                        startedAt))
            } else {
                history["backend/\(name)"] = nil
            }
        }
        for name in routes {
            if let outcome = outcomes.routes[name] {
                changed.formUnion(note("route/\(name)", outcome.generation, version, [], false, startedAt))
            } else {
                history["route/\(name)"] = nil
            }
        }
        if published { changedIn[version, default: []].formUnion(changed) }
        if changedIn.count > 256, let oldest = changedIn.keys.min() { changedIn[oldest] = nil }
    }

    private mutating func note(
        _ key: String, _ generation: Int64, _ version: UInt64, _ clusters: [String], _ needsEndpoints: Bool,
        _ startedAt: ContinuousClock.Instant?
    ) -> Set<String> {
        var entries = history[key] ?? []
        // A new generation, or the same one now built into other clusters (a route started or stopped using it).
        guard entries.last?.generation != generation || entries.last?.clusters != clusters else { return [] }
        // The same generation rebuilt keeps the time it was first seen.
        let first = entries.last { $0.generation == generation }?.startedAt ?? startedAt
        entries.append(
            Published(
                generation: generation, version: version, clusters: clusters, needsEndpoints: needsEndpoints, startedAt: first))
        if entries.count > 16 { entries.removeFirst(entries.count - 16) }
        history[key] = entries
        return [key]
    }

    /// For a programmed object: its generation, the time from the control plane first seeing it to the ACK of the
    /// last connected proxy (every type), and how many proxies that is; nil while not every proxy has it or when the
    /// ACK times are no longer kept.
    func propagation(for key: String, nodes: [String: ProxyTracker.NodeState]) -> (generation: Int64, latency: Duration, proxies: Int)? {
        guard case .programmed(let generation) = result(for: key, nodes: nodes),
            let entry = history[key]?.first(where: { $0.generation == generation }), let started = entry.startedAt
        else { return nil }
        var last = started
        for node in nodes.values {
            for type in XDSType.allCases where entry.applies(type, to: node) {
                guard let at = node.types[type]?.acknowledgedAt(atLeast: entry.version) else { return nil }
                last = max(last, at)
            }
        }
        return (generation, last - started, nodes.count)
    }

    /// The result of comparing an object's history with what the connected Envoys acknowledged.
    enum Result: Equatable {
        case programmed(generation: Int64)
        case rejected(generation: Int64, message: String)
        case pending(programmedGeneration: Int64?)
        case noProxy
    }

    /// Programmed state of one object, given every connected node's per-type state.
    func result(for key: String, nodes: [String: ProxyTracker.NodeState]) -> Result {
        guard let entries = history[key], let latest = entries.last else { return .pending(programmedGeneration: nil) }
        guard !nodes.isEmpty else { return .noProxy }
        func names(_ message: String) -> Bool {
            history.values.contains { $0.last?.clusters.contains { message.contains($0) } ?? false }
        }
        for node in nodes.values {
            for (_, state) in node.types.sorted(by: { $0.key < $1.key }) {
                guard let rejected = state.rejected, let version = UInt64(rejected.version), version >= latest.version
                else { continue }
                let named = latest.clusters.contains { rejected.message.contains($0) }
                if named || (!names(rejected.message) && (changedIn[version]?.contains(key) ?? false)) {
                    return .rejected(generation: latest.generation, message: rejected.message)
                }
            }
        }
        // The lowest version every node has applied for every type. Envoy applies the valid clusters of a CDS
        // update it rejects and names the invalid ones, so a rejection that names other clusters counts as
        // applied for this object.
        var acked = UInt64.max
        for node in nodes.values {
            for type in XDSType.allCases where latest.applies(type, to: node) {
                let state = node.types[type]
                var applied = state?.ackedVersion.flatMap(UInt64.init) ?? 0
                // EDS rejections name their cluster as CDS ones do.
                if type == .cluster || type == .endpoint, let rejected = state?.rejected, let version = UInt64(rejected.version),
                    names(rejected.message), !latest.clusters.contains(where: { rejected.message.contains($0) })
                {
                    applied = max(applied, version)
                }
                acked = min(acked, applied)
            }
        }
        let programmed = entries.last { $0.version <= acked }
        if programmed?.generation == latest.generation { return .programmed(generation: latest.generation) }
        return .pending(programmedGeneration: programmed?.generation)
    }
}

extension ProgrammedState.Published {
    /// Whether a proxy must have acknowledged `type` for this entry to be on it.
    func applies(_ type: XDSType, to node: ProxyTracker.NodeState) -> Bool {
        type != .endpoint || needsEndpoints || node.types[.endpoint] != nil
    }
}
