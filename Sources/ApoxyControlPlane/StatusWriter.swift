import ApoxyAPI
import ApoxyClient
import ApoxyTranslation
import ApoxyXDS
import Logging

/// Writes Backend and HTTPRoute conditions through `/status` when they differ from what is stored.
struct StatusWriter {
    let api: APIEndpoint
    let logger: Logger
    let clock: @Sendable () -> Int64
    let proxyName: String

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
                    message += "; generation \(generation) reached \(propagation.proxies == 1 ? "1 proxy" : "\(propagation.proxies) proxies") in \(propagation.latency)"
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

    /// Brings every object's status in line with the translation and Envoy's acknowledgements.
    func reconcile(
        ir: GatewayIR, backends: [String: JSONValue], routes: [String: JSONValue], programmed: ProgrammedState,
        nodes: [String: ProxyTracker.NodeState]
    ) async {
        let now = clock()
        var patches: [(path: String, body: JSONValue)] = []
        for (name, object) in backends.sorted(by: { $0.key < $1.key }) {
            guard let outcome = ir.backends[name],
                outcome.generation == object["metadata"]?["generation"]?.integerValue ?? outcome.generation
            else { continue }
            let existing = object["status"]?["conditions"]?.arrayValue ?? []
            let result = programmed.result(for: "backend/\(name)", nodes: nodes)
            let stored = object["status"]?["propagation"]
            var propagation = stored.map(Propagation.init(json:))
            // Measured once per generation: the first value stays, so the status is not rewritten on later ACKs.
            if case .programmed(let generation) = result, propagation?.observedGeneration != generation,
                let measured = programmed.propagation(for: "backend/\(name)", nodes: nodes)
            {
                propagation = Propagation(
                    observedGeneration: measured.generation, latency: Self.format(measured.latency), proxies: Int64(measured.proxies))
            }
            let wanted = conditions(
                backendConditions(outcome, programmed: result, propagation: propagation, now: now), existing: existing)
            if !Self.equal(wanted, existing) || propagation?.json != stored {
                var status: [String: JSONValue] = ["conditions": .array(wanted)]
                if let propagation { status["propagation"] = propagation.json }
                patches.append(("\(ControlPlane.backendsPath)/\(name)/status", ["status": .object(status)]))
            }
        }
        for (name, object) in routes.sorted(by: { $0.key < $1.key }) {
            guard let outcome = ir.routes[name],
                outcome.generation == object["metadata"]?["generation"]?.integerValue ?? outcome.generation
            else { continue }
            let parents = object["status"]?["parents"]?.arrayValue ?? []
            let existing = parents.first { $0["controllerName"]?.stringValue == ControlPlane.controllerName }?["conditions"]?
                .arrayValue ?? []
            let wanted = conditions(routeConditions(outcome, now: now), existing: existing)
            if !Self.equal(wanted, existing) {
                let parent: JSONValue = [
                    "parentRef": ["group": "core.apoxy.dev", "kind": "Proxy", "name": .string(proxyName)],
                    "controllerName": .string(ControlPlane.controllerName),
                    "conditions": .array(wanted),
                ]
                let others = parents.filter { $0["controllerName"]?.stringValue != ControlPlane.controllerName }
                patches.append(("\(ControlPlane.routesPath)/\(name)/status", ["status": ["parents": .array(others + [parent])]]))
            }
        }
        guard !patches.isEmpty else { return }
        do {
            try await api.withConnection { connection in
                for patch in patches {
                    let response = try await connection.request(
                        "PATCH", patch.path,
                        headers: api.headers([("Content-Type", "application/merge-patch+json")]),
                        body: patch.body.serialized())
                    // 404: deleted meanwhile; the next watch event drops it.
                    if response.status != 200 && response.status != 404 {
                        logger.warning(
                            "status write failed", metadata: ["path": "\(patch.path)", "status": "\(response.status)", "body": "\(response.text)"])
                    }
                }
            }
        } catch {
            logger.warning("cannot reach the API server to write status", metadata: ["error": "\(error)"])
        }
    }

    static func equal(_ a: [JSONValue], _ b: [JSONValue]) -> Bool {
        a.count == b.count && zip(a, b).allSatisfy { sameCondition($0, $1) }
    }
}
