import ApoxyAPI
import ApoxyClient
import HashTreeCollections
import Logging
import Testing

@testable import ApoxyControlPlane
@testable import ApoxyTranslation
@testable import ApoxyXDS

/// Several backplanes on one Backend: each writes only its own `status.proxies` entry; the top level is their
/// aggregate, so two backplanes compute the same value instead of overwriting each other.
struct StatusWriterTests {
    /// A client of a port nothing listens on: writes fail as with an API server that is down. It lives as long as
    /// the test process, so it is never shut down (async-http-client traps on a client dropped before shutdown).
    static let unreachable = APIConnection(
        endpoint: APIEndpoint(host: "127.0.0.1", port: 1), http: PooledHTTPClient(host: "127.0.0.1", port: 1))

    func writer(_ proxyName: String) -> StatusWriter {
        StatusWriter(api: Self.unreachable, logger: Logger(label: "test"), clock: { 1_800_000_000 }, proxyName: proxyName)
    }

    func entry(
        _ name: String, status: String, generation: Int64, reason: String = "Programmed", message: String = "ok", latency: String? = nil
    ) -> JSONValue {
        var entry: [String: JSONValue] = [
            "name": .string(name),
            "conditions": [
                Condition(
                    type: "Programmed", status: status, observedGeneration: generation, lastTransitionTime: 1_700_000_000,
                    reason: reason, message: message
                ).json
            ],
        ]
        if let latency { entry["propagation"] = Propagation(observedGeneration: generation, latency: latency, proxies: 1).json }
        return .object(entry)
    }

    @Test func aggregateIsTrueOnlyWhenEveryBackplaneHasTheGeneration() {
        let both = [entry("a", status: "True", generation: 2, latency: "5ms"), entry("b", status: "True", generation: 2, latency: "9.5ms")]
        let (programmed, propagation) = StatusWriter.aggregate(both, generation: 2, now: 0)
        #expect(programmed.status == "True" && programmed.observedGeneration == 2)
        #expect(programmed.message == "programmed through every backplane: a, b")
        #expect(propagation == Propagation(observedGeneration: 2, latency: "9.5ms", proxies: 2))

        let behind = [
            entry("a", status: "True", generation: 2),
            entry("b", status: "True", generation: 1, message: "waiting for Envoy to acknowledge generation 2"),
        ]
        let (pending, none) = StatusWriter.aggregate(behind, generation: 2, now: 0)
        #expect(pending.observedGeneration == 1)
        #expect(pending.message == "proxy b: waiting for Envoy to acknowledge generation 2")
        #expect(none == nil)

        let rejected = [
            entry("a", status: "False", generation: 2, reason: "Rejected", message: "bad cluster"),
            entry("b", status: "True", generation: 2),
        ]
        let (refused, _) = StatusWriter.aggregate(rejected, generation: 2, now: 0)
        #expect(refused.status == "False" && refused.reason == "Rejected" && refused.message == "proxy a: bad cluster")
    }

    @Test func eachBackplaneWritesOnlyItsOwnEntryAndTheSameAggregate() throws {
        var state = ProgrammedState()
        var ir = GatewayIR()
        ir.backends["web"] = .init(generation: 1, accepted: true, reason: "Accepted", message: "", clusters: ["web:80"])
        state.record(ir: ir, version: 2, published: true)
        let node = ProxyTracker.NodeState.acknowledging("2")
        let object: JSONValue = [
            "metadata": ["name": "web", "generation": 1, "resourceVersion": "7"],
            "status": ["proxies": [entry("edge-2", status: "True", generation: 1)]],
        ]
        let status = try #require(
            writer("edge-1").backendStatus(
                name: "web", object: object, outcome: ir.backends["web"]!, programmed: state, nodes: ["n": node], now: 1_800_000_000))
        let names = status["proxies"]?.arrayValue?.compactMap { $0["name"]?.stringValue }
        #expect(names == ["edge-1", "edge-2"])
        // edge-2's entry is kept as it was.
        #expect(status["proxies"]?[1] == entry("edge-2", status: "True", generation: 1))
        let programmed = status["conditions"]?.arrayValue?.first { $0["type"] == "Programmed" }
        #expect(programmed?["status"] == "True")
        #expect(programmed?["message"] == "programmed through every backplane: edge-1, edge-2")

        // Written back, the same backplane has nothing more to say; the other one computes the same top level.
        var stored = object
        stored["status"] = status
        #expect(
            writer("edge-1").backendStatus(
                name: "web", object: stored, outcome: ir.backends["web"]!, programmed: state, nodes: ["n": node], now: 1_800_000_100) == nil
        )
    }

    /// A scoped pass looks only at the objects named: with the API unreachable, the objects it would have written come
    /// back to be retried, and no others; a Backend Envoy has not acknowledged yet is handed on as awaiting.
    @Test func aScopedPassLooksOnlyAtItsObjectsAndHandsOnThoseAwaitingAnACK() async {
        var state = ProgrammedState()
        var ir = GatewayIR()
        for name in ["a", "b", "c"] {
            ir.backends[name] = .init(generation: 1, accepted: true, reason: "Accepted", message: "", clusters: ["\(name):80"])
        }
        state.record(ir: ir, version: 2, published: true)
        // "c" changes again in version 3, which the proxy has not acknowledged.
        ir.backends["c"]?.generation = 2
        state.record(backends: ["c"], routes: [], outcomes: ir, version: 3, published: true)
        let node = ProxyTracker.NodeState.acknowledging("2")
        var objects: [String: JSONValue] = [:]
        for (name, generation) in [("a", 1), ("b", 1), ("c", 2)] {
            objects[name] = ["metadata": ["name": .string(name), "generation": .integer(Int64(generation))]]
        }

        let scoped = await writer("edge").reconcile(
            ir: ir, backends: objects, routes: [:], scope: .init(backends: ["b", "c"]), programmed: state, nodes: ["n": node])
        #expect(scoped.conflicted.backends == ["b", "c"])
        #expect(scoped.awaiting == ["c"])

        let everything = await writer("edge").reconcile(
            ir: ir, backends: objects, routes: [:], programmed: state, nodes: ["n": node])
        #expect(everything.conflicted.backends == ["a", "b", "c"])
        #expect(everything.awaiting == ["c"])
    }
}

/// The Events the status writer records: one per change of a condition's status or reason, none for a move to
/// Unknown (every generation passes through it), Warnings for False with the condition's message.
struct StatusEventTests {
    let writer = StatusWriter(
        api: StatusWriterTests.unreachable, logger: Logger(label: "test"), clock: { 1_800_000_000 }, proxyName: "edge-1")

    func condition(_ type: String, _ status: String, _ reason: String, _ message: String = "m") -> JSONValue {
        ["type": .string(type), "status": .string(status), "reason": .string(reason), "message": .string(message)]
    }

    let object: JSONValue = [
        "metadata": ["name": "web", "uid": "uid-1", "resourceVersion": "7"], "status": ["conditions": []],
    ]

    @Test func aTransitionIsOneEventAndNoChangeIsNone() {
        let first = writer.transitionEvents(
            kind: "Backend", apiVersion: "core.apoxy.dev/v1alpha2", object: object,
            wanted: [condition("Programmed", "True", "Programmed", "acknowledged")], stored: [], now: 1_800_000_000)
        #expect(first.count == 1)
        let event = first[0]
        #expect(event["metadata"]?["namespace"] == "default")
        #expect(event["metadata"]?["name"]?.stringValue?.hasPrefix("web.") == true)
        #expect(
            event["involvedObject"] == [
                "apiVersion": "core.apoxy.dev/v1alpha2", "kind": "Backend", "name": "web", "uid": "uid-1", "resourceVersion": "7",
            ])
        #expect(event["reason"] == "Programmed" && event["type"] == "Normal")
        #expect(event["message"] == "Programmed is True: acknowledged")
        #expect(event["reportingComponent"] == "apoxy.dev/backplane" && event["reportingInstance"] == "edge-1")
        #expect(event["firstTimestamp"] == "2027-01-15T08:00:00Z" && event["lastTimestamp"] == event["firstTimestamp"])

        // The same status and reason with a new message (a later generation) is no transition.
        let same = writer.transitionEvents(
            kind: "Backend", apiVersion: "core.apoxy.dev/v1alpha2", object: object,
            wanted: [condition("Programmed", "True", "Programmed", "generation 2")],
            stored: [condition("Programmed", "True", "Programmed", "generation 1")], now: 1_800_000_000)
        #expect(same.isEmpty)
        // Pending is not recorded.
        let pending = writer.transitionEvents(
            kind: "Backend", apiVersion: "core.apoxy.dev/v1alpha2", object: object, wanted: [condition("Programmed", "Unknown", "Pending")],
            stored: [condition("Programmed", "True", "Programmed")], now: 1_800_000_000)
        #expect(pending.isEmpty)
    }

    @Test func aRejectionIsAWarningWithEnvoysText() {
        let events = writer.transitionEvents(
            kind: "Backend", apiVersion: "core.apoxy.dev/v1alpha2", object: object,
            wanted: [condition("Programmed", "False", "Rejected", "Envoy rejected clusters web:443: bad CA")],
            stored: [condition("Programmed", "True", "Programmed")], now: 1_800_000_000)
        #expect(events.map { $0["type"] } == ["Warning"])
        #expect(events.first?["reason"] == "Rejected")
        #expect(events.first?["message"] == "Programmed is False: Envoy rejected clusters web:443: bad CA")
        let long = String(repeating: "x", count: 5000)
        let cut = writer.transitionEvents(
            kind: "Backend", apiVersion: "core.apoxy.dev/v1alpha2", object: object,
            wanted: [condition("Programmed", "False", "Rejected", long)], stored: [], now: 1_800_000_000)
        #expect((cut.first?["message"]?.stringValue?.count ?? 0) <= 1024, "kube keeps 1 kB of an Event's note")
    }

    @Test func aBackendsEventsComeFromItsAcceptedAndThisBackplanesProgrammed() {
        let stored: JSONValue = [
            "metadata": ["name": "web", "uid": "uid-1"],
            "status": [
                "conditions": [condition("Accepted", "True", "Accepted"), condition("Programmed", "True", "Programmed")],
                "proxies": [
                    ["name": "edge-1", "conditions": [condition("Programmed", "True", "Programmed")]],
                    ["name": "edge-2", "conditions": [condition("Programmed", "True", "Programmed")]],
                ],
            ],
        ]
        // Another backplane's entry changed and the aggregate with it: not this backplane's to record.
        let status: JSONValue = [
            "conditions": [condition("Accepted", "True", "Accepted"), condition("Programmed", "False", "Rejected")],
            "proxies": [
                ["name": "edge-1", "conditions": [condition("Programmed", "True", "Programmed")]],
                ["name": "edge-2", "conditions": [condition("Programmed", "False", "Rejected")]],
            ],
        ]
        #expect(writer.backendEvents(object: stored, status: status, now: 1_800_000_000).isEmpty)
        let invalid: JSONValue = [
            "conditions": [condition("Accepted", "False", "Invalid", "spec.protocol: unsupported")],
            "proxies": [["name": "edge-1", "conditions": [condition("Programmed", "False", "Invalid")]]],
        ]
        let events = writer.backendEvents(object: stored, status: invalid, now: 1_800_000_000)
        #expect(events.map { $0["reason"] } == ["Invalid", "Invalid"])
        #expect(events.map { $0["message"]?.stringValue?.hasPrefix("Accepted is False") == true } == [true, false])
    }
}
