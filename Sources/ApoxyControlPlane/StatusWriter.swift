import ApoxyAPI
import ApoxyClient
import ApoxyTranslation
import ApoxyXDS
import HashTreeCollections
import Logging

/// Writes Backend and HTTPRoute conditions through `/status` when they differ from what is stored.
struct StatusWriter {
    let api: APIConnection
    let logger: Logger
    let clock: @Sendable () -> Int64
    let proxyName: String

    /// One `/status` merge patch of a pass, with the Events it records once written.
    typealias StatusPatch = (path: String, body: JSONValue, backend: String?, route: String?, events: [JSONValue])

    /// Sends the patches, then the Events of those that landed; returns the objects that changed meanwhile (409).
    private func write(_ patches: [StatusPatch]) async throws -> Scope {
        var conflicted = Scope()
        var events: [JSONValue] = []
        for patch in patches {
            let response = try await api.request(
                "PATCH", patch.path, contentType: "application/merge-patch+json", body: patch.body.serialized())
            // 404: deleted meanwhile; the next watch event drops it. 409: changed meanwhile (another backplane's
            // entry): retried.
            if response.status == 409 {
                if let name = patch.backend { conflicted.backends.insert(name) }
                if let name = patch.route { conflicted.routes.insert(name) }
            } else if response.status == 200 {
                events += patch.events
            } else if response.status != 404 {
                logger.warning(
                    "status write failed",
                    metadata: ["path": "\(patch.path)", "status": "\(response.status)", "body": "\(response.text)"])
            }
        }
        // After every status write of the pass, so Events never delay status.
        await record(events)
        return conflicted
    }

    /// Conditions are compared without `lastTransitionTime`, which is kept while the status stays the same.
    static func sameCondition(_ a: JSONValue, _ b: JSONValue) -> Bool {
        for key in ["type", "status", "reason", "message", "observedGeneration"] where a[key] != b[key] {
            return false
        }
        return true
    }

    /// Builds the conditions for one object; keeps the stored transition time when the status did not change.
    func conditions(_ wanted: [Condition], existing: [JSONValue]) -> [JSONValue] {
        wanted.map { condition in
            var json = condition.json
            if let old = existing.first(where: { $0["type"]?.stringValue == condition.type }),
                old["status"]?.stringValue == condition.status, let time = old["lastTransitionTime"],
                case .object(var object) = json
            {
                object["lastTransitionTime"] = time
                json = .object(object)
            }
            return json
        }
    }

    /// A latency as a Go duration to the microsecond (`12.345ms`).
    static func format(_ latency: Duration) -> String {
        let micros = latency.components.seconds * 1_000_000 + latency.components.attoseconds / 1_000_000_000_000
        return GoDuration(nanoseconds: max(0, micros) * 1000).description
    }

    /// As many observed endpoints as `status.proxies[].endpoints` holds (its schema's maxItems).
    static let maxObservedEndpoints = 1024

    static func limited(_ message: String) -> String {
        message.count <= 32_768 ? message : String(message.prefix(32_700)) + "… (truncated)"
    }

    /// The desired `Accepted` and `Programmed` conditions of a Backend.
    func backendConditions(
        _ outcome: GatewayIR.BackendOutcome, programmed: ProgrammedState.Result, propagation: Propagation? = nil, now: Int64
    ) -> [Condition] {
        let accepted = Condition(
            type: "Accepted", status: outcome.accepted ? "True" : "False", observedGeneration: outcome.generation,
            lastTransitionTime: now, reason: outcome.reason, message: Self.limited(outcome.message))
        let programmedCondition: Condition
        if !outcome.accepted {
            programmedCondition = Condition(
                type: "Programmed", status: "False", observedGeneration: outcome.generation, lastTransitionTime: now,
                reason: "Invalid", message: "not translated: \(outcome.reason)")
        } else {
            switch programmed {
            case .programmed(let generation):
                var message =
                    outcome.clusters.isEmpty
                    ? "acknowledged by Envoy; no route uses this Backend yet"
                    : "acknowledged by Envoy as clusters \(outcome.clusters.joined(separator: ", "))"
                if let propagation, propagation.observedGeneration == generation {
                    message +=
                        "; generation \(generation) reached \(propagation.proxies == 1 ? "1 proxy" : "\(propagation.proxies) proxies") in \(propagation.latency)"
                }
                programmedCondition = Condition(
                    type: "Programmed", status: "True", observedGeneration: generation, lastTransitionTime: now,
                    reason: "Programmed", message: message)
            case .rejected(let generation, let message):
                programmedCondition = Condition(
                    type: "Programmed", status: "False", observedGeneration: generation, lastTransitionTime: now,
                    reason: "Rejected", message: Self.limited("Envoy rejected the configuration: \(message)"))
            case .pending(let programmedGeneration):
                // Still True for the older generation Envoy serves, if any: observedGeneration says which one.
                programmedCondition = Condition(
                    type: "Programmed", status: programmedGeneration == nil ? "Unknown" : "True",
                    observedGeneration: programmedGeneration ?? outcome.generation, lastTransitionTime: now,
                    reason: programmedGeneration == nil ? "Pending" : "Programmed",
                    message: "waiting for Envoy to acknowledge generation \(outcome.generation)")
            case .noProxy:
                programmedCondition = Condition(
                    type: "Programmed", status: "Unknown", observedGeneration: outcome.generation,
                    lastTransitionTime: now, reason: "NoProxy", message: "no Envoy is connected to the control plane")
            }
        }
        return [accepted, programmedCondition]
    }

    /// The desired `Accepted` and `ResolvedRefs` conditions of a route.
    func routeConditions(_ outcome: GatewayIR.RouteOutcome, now: Int64) -> [Condition] {
        [
            Condition(
                type: "Accepted", status: outcome.accepted ? "True" : "False", observedGeneration: outcome.generation,
                lastTransitionTime: now, reason: outcome.acceptedReason, message: Self.limited(outcome.acceptedMessage)),
            Condition(
                type: "ResolvedRefs", status: outcome.resolvedRefs ? "True" : "False",
                observedGeneration: outcome.generation, lastTransitionTime: now, reason: outcome.refsReason,
                message: Self.limited(outcome.refsMessage)),
        ]
    }

    /// Which objects a pass looks at: those whose translation, stored status or acknowledgement may have changed.
    struct Scope: Sendable, Equatable {
        var backends: Set<String> = []
        var routes: Set<String> = []

        var isEmpty: Bool { backends.isEmpty && routes.isEmpty }

        mutating func formUnion(_ other: Scope) {
            backends.formUnion(other.backends)
            routes.formUnion(other.routes)
        }
    }

    /// What a pass leaves to the next ones.
    struct Outcome: Sendable, Equatable {
        /// Objects whose write lost a race (409): to retry once the newer object has arrived.
        var conflicted = Scope()
        /// Backends looked at whose Programmed is not settled yet (pending or rejected): a later ACK can change it,
        /// so the next pass after an ACK looks at them again.
        var awaiting: Set<String> = []
    }

    /// Brings the status of the objects in `scope` (every object when nil) in line with the translation and Envoy's
    /// acknowledgements. A pass costs what its scope holds, not what exists.
    @discardableResult
    func reconcile(
        ir: GatewayIR, backends: [String: JSONValue], routes: [String: JSONValue], scope: Scope? = nil,
        programmed: ProgrammedState, nodes: [String: ProxyTracker.NodeState],
        observed: [String: [ObservedEndpoint]]? = nil
    ) async -> Outcome {
        let now = clock()
        var reconciled = Outcome()
        var patches: [StatusPatch] = []
        func objects(_ all: [String: JSONValue], _ names: Set<String>?) -> [(key: String, value: JSONValue)] {
            guard let names else { return all.sorted { $0.key < $1.key } }
            return names.sorted().compactMap { name in all[name].map { (name, $0) } }
        }
        for (name, object) in objects(backends, scope?.backends) {
            guard let outcome = ir.backends[name],
                outcome.generation == object["metadata"]?["generation"]?.integerValue ?? outcome.generation
            else { continue }
            let result = programmed.result(for: "backend/\(name)", nodes: nodes)
            switch result {
            case .programmed, .noProxy: break
            case .pending, .rejected: reconciled.awaiting.insert(name)
            }
            if let status = backendStatus(
                name: name, object: object, outcome: outcome, programmed: programmed, nodes: nodes, observed: observed,
                result: result, now: now)
            {
                // With other backplanes' entries, the stored resourceVersion is a precondition, so one written meanwhile
                // is not lost (409, retried with the newer object). Alone, the write needs none and never waits.
                var body: JSONObject = ["status": status]
                let shared = (object["status"]?["proxies"]?.arrayValue ?? []).contains { $0["name"]?.stringValue != proxyName }
                if shared, let version = object["metadata"]?["resourceVersion"] { body["metadata"] = ["resourceVersion": version] }
                patches.append(
                    (
                        "\(ControlPlane.backendsPath)/\(name)/status", .object(body), name, nil,
                        backendEvents(object: object, status: status, now: now)
                    ))
            }
        }
        for (name, object) in objects(routes, scope?.routes) {
            guard let outcome = ir.routes[name],
                outcome.generation == object["metadata"]?["generation"]?.integerValue ?? outcome.generation
            else { continue }
            let parents = object["status"]?["parents"]?.arrayValue ?? []
            // Each backplane owns the parent entry with its own proxy name, so several never overwrite each other.
            func isMine(_ parent: JSONValue) -> Bool {
                parent["controllerName"]?.stringValue == ControlPlane.controllerName
                    && parent["parentRef"]?["name"]?.stringValue == proxyName
            }
            let existing = parents.first(where: isMine)?["conditions"]?.arrayValue ?? []
            let wanted = conditions(routeConditions(outcome, now: now), existing: existing)
            if !Self.equal(wanted, existing) {
                let parent: JSONValue = [
                    "parentRef": ["group": "core.apoxy.dev", "kind": "Proxy", "name": .string(proxyName)],
                    "controllerName": .string(ControlPlane.controllerName),
                    "conditions": .array(wanted),
                ]
                let others = parents.filter { !isMine($0) }
                // As for Backends: with other backplanes' parents, a resourceVersion precondition keeps theirs.
                var body: JSONObject = ["status": ["parents": .array(others + [parent])]]
                if others.contains(where: { $0["controllerName"]?.stringValue == ControlPlane.controllerName }),
                    let version = object["metadata"]?["resourceVersion"]
                {
                    body["metadata"] = ["resourceVersion": version]
                }
                let events = transitionEvents(
                    kind: HTTPRoute.descriptor.kind, apiVersion: HTTPRoute.descriptor.apiVersion, object: object, wanted: wanted,
                    stored: existing, now: now)
                patches.append(("\(ControlPlane.routesPath)/\(name)/status", .object(body), nil, name, events))
            }
        }
        guard !patches.isEmpty else { return reconciled }
        do {
            reconciled.conflicted = try await write(patches)
        } catch {
            logger.warning("cannot reach the API server to write status", metadata: ["error": "\(error)"])
            // Nothing was written for sure: every object of the pass is tried again on the next one.
            for patch in patches {
                if let name = patch.backend { reconciled.conflicted.backends.insert(name) }
                if let name = patch.route { reconciled.conflicted.routes.insert(name) }
            }
        }
        return reconciled
    }

    /// The Events a Backend's new status calls for: a change of its Accepted, or of this backplane's Programmed.
    func backendEvents(object: JSONValue, status: JSONValue, now: Int64) -> [JSONValue] {
        let stored = object["status"]
        func mine(_ status: JSONValue?) -> [JSONValue] {
            (status?["proxies"]?.arrayValue ?? []).first { $0["name"]?.stringValue == proxyName }?["conditions"]?.arrayValue ?? []
        }
        let accepted = (status["conditions"]?.arrayValue ?? []).filter { $0["type"]?.stringValue == "Accepted" }
        let (kind, apiVersion) = (Backend.descriptor.kind, Backend.descriptor.apiVersion)
        return transitionEvents(
            kind: kind, apiVersion: apiVersion, object: object, wanted: accepted, stored: stored?["conditions"]?.arrayValue ?? [], now: now)
            + transitionEvents(kind: kind, apiVersion: apiVersion, object: object, wanted: mine(status), stored: mine(stored), now: now)
    }

    /// A Backend's desired status, or nil when the stored one already says it: Accepted, this backplane's own
    /// entry in `status.proxies` (Programmed and propagation), and the top-level Programmed and propagation, which
    /// are this backplane's view when it is the only one and otherwise the aggregate of every entry.
    func backendStatus(
        name: String, object: JSONValue, outcome: GatewayIR.BackendOutcome, programmed: ProgrammedState,
        nodes: [String: ProxyTracker.NodeState], observed: [String: [ObservedEndpoint]]? = nil,
        result known: ProgrammedState.Result? = nil, now: Int64
    ) -> JSONValue? {
        let stored = object["status"] ?? .object([:])
        let storedProxies = stored["proxies"]?.arrayValue ?? []
        let mine = storedProxies.first { $0["name"]?.stringValue == proxyName }
        // Passed in when the caller has it already.
        let result = known ?? programmed.result(for: "backend/\(name)", nodes: nodes)
        var propagation = (mine?["propagation"] ?? (storedProxies.isEmpty ? stored["propagation"] : nil)).map(Propagation.init(json:))
        // Measured once per generation: the first value stays, so the status is not rewritten on later ACKs.
        if case .programmed(let generation) = result, propagation?.observedGeneration != generation,
            let measured = programmed.propagation(for: "backend/\(name)", nodes: nodes)
        {
            propagation = Propagation(
                observedGeneration: measured.generation, latency: Self.format(measured.latency), proxies: Int64(measured.proxies))
        }
        let own = backendConditions(outcome, programmed: result, propagation: propagation, now: now)
        var entry: JSONObject = [
            "name": .string(proxyName), "conditions": .array(conditions([own[1]], existing: mine?["conditions"]?.arrayValue ?? [])),
        ]
        if let propagation { entry["propagation"] = propagation.json }
        // What this backplane's Envoy sees of the Backend's clusters; kept as stored when its admin is not read.
        if let observed {
            let endpoints = outcome.clusters.sorted().flatMap { observed[$0] ?? [] }.prefix(Self.maxObservedEndpoints)
            if !endpoints.isEmpty { entry["endpoints"] = .array(endpoints.map(\.json)) }
        } else if let stored = mine?["endpoints"] {
            entry["endpoints"] = stored
        }
        let proxies = (storedProxies.filter { $0["name"]?.stringValue != proxyName } + [.object(entry)])
            .sorted { ($0["name"]?.stringValue ?? "") < ($1["name"]?.stringValue ?? "") }
        let top: (programmed: Condition, propagation: Propagation?) =
            proxies.count == 1 ? (own[1], propagation) : Self.aggregate(proxies, generation: outcome.generation, now: now)
        var status: JSONObject = [
            "conditions": .array(conditions([own[0], top.programmed], existing: stored["conditions"]?.arrayValue ?? [])),
            "proxies": .array(proxies),
            // null removes a stored value in a merge patch.
            "propagation": top.propagation?.json ?? .null,
        ]
        let same =
            Self.equal(status["conditions"]!.arrayValue!, stored["conditions"]?.arrayValue ?? [])
            && (top.propagation?.json ?? .null) == (stored["propagation"] ?? .null)
            && proxies.count == storedProxies.count
            && zip(proxies, storedProxies).allSatisfy { wanted, old in
                wanted["name"] == old["name"] && wanted["propagation"] == old["propagation"]
                    && wanted["endpoints"] == old["endpoints"]
                    && Self.equal(wanted["conditions"]?.arrayValue ?? [], old["conditions"]?.arrayValue ?? [])
            }
        if same { return nil }
        if top.propagation == nil, stored["propagation"] == nil { status["propagation"] = nil }
        return .object(status)
    }

    /// Every backplane's Programmed as one: Rejected if any proxy rejected it, True when every backplane has the
    /// generation, otherwise the first one that lacks it; propagation when every backplane measured the generation
    /// (the slowest latency, the proxies added up).
    static func aggregate(_ proxies: [JSONValue], generation: Int64, now: Int64) -> (Condition, Propagation?) {
        let views = proxies.map { proxy in
            (
                name: proxy["name"]?.stringValue ?? "",
                programmed: (proxy["conditions"]?.arrayValue ?? []).map(Condition.init(json:)).first { $0.type == "Programmed" },
                propagation: proxy["propagation"].map(Propagation.init(json:))
            )
        }
        let oldest = views.compactMap { $0.programmed?.observedGeneration }.min() ?? generation
        if let rejected = views.first(where: { $0.programmed?.reason == "Rejected" }), let condition = rejected.programmed {
            return (
                Condition(
                    type: "Programmed", status: "False", observedGeneration: condition.observedGeneration, lastTransitionTime: now,
                    reason: "Rejected", message: limited("proxy \(rejected.name): \(condition.message)")), nil
            )
        }
        let lacking = views.first { $0.programmed?.status != "True" || $0.programmed?.observedGeneration != generation }
        guard let lacking else {
            var propagation: Propagation?
            let measured = views.compactMap(\.propagation).filter { $0.observedGeneration == generation }
            if measured.count == views.count {
                let slowest = measured.max {
                    (try? GoDuration(parsing: $0.latency)) ?? GoDuration(nanoseconds: 0)
                        < (try? GoDuration(parsing: $1.latency)) ?? GoDuration(nanoseconds: 0)
                }
                propagation = Propagation(
                    observedGeneration: generation, latency: slowest?.latency ?? "", proxies: measured.reduce(0) { $0 + $1.proxies })
            }
            return (
                Condition(
                    type: "Programmed", status: "True", observedGeneration: generation, lastTransitionTime: now, reason: "Programmed",
                    message: "programmed through every backplane: \(views.map(\.name).joined(separator: ", "))"), propagation
            )
        }
        let condition = lacking.programmed
        return (
            Condition(
                type: "Programmed", status: condition?.status ?? "Unknown",
                observedGeneration: min(oldest, condition?.observedGeneration ?? oldest),
                lastTransitionTime: now, reason: condition?.reason ?? "Pending",
                message: limited("proxy \(lacking.name): \(condition?.message ?? "no status yet")")), nil
        )
    }

    static func equal(_ a: [JSONValue], _ b: [JSONValue]) -> Bool {
        a.count == b.count && zip(a, b).allSatisfy { sameCondition($0, $1) }
    }
}
