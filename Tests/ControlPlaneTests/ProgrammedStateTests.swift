import HashTreeCollections
import Testing

@testable import ApoxyControlPlane
@testable import ApoxyTranslation
@testable import ApoxyXDS

/// From "version V carried generation G" and per-node ACK/NACK state to a Backend's Programmed result.
struct ProgrammedStateTests {
    func ir(_ backends: [(String, Int64, [String])]) -> GatewayIR {
        var ir = GatewayIR()
        for (name, generation, clusters) in backends {
            ir.backends[name] = .init(
                generation: generation, accepted: true, reason: "Accepted", message: "", clusters: clusters)
        }
        return ir
    }

    func node(acked: String, rejected: (String, String)? = nil) -> ProxyTracker.NodeState {
        var node = ProxyTracker.NodeState()
        node.streams = 1
        for type in XDSType.allCases {
            node.types[type] = .init(ackedVersion: acked, rejected: nil)
        }
        if let rejected { node.types[.cluster]?.rejected = .init(version: rejected.0, message: rejected.1) }
        return node
    }

    @Test func generationIsProgrammedOnceEveryTypeIsAcknowledged() {
        var state = ProgrammedState()
        state.record(ir: ir([("web", 1, ["web:80"])]), version: 2, published: true)
        #expect(state.result(for: "backend/web", nodes: [:]) == .noProxy)
        #expect(state.result(for: "backend/web", nodes: ["p": node(acked: "1")]) == .pending(programmedGeneration: nil))
        #expect(state.result(for: "backend/web", nodes: ["p": node(acked: "2")]) == .programmed(generation: 1))
        // Generation 2 arrives in version 3: Envoy still serves generation 1 until it acknowledges 3.
        state.record(ir: ir([("web", 2, ["web:80"])]), version: 3, published: true)
        #expect(state.result(for: "backend/web", nodes: ["p": node(acked: "2")]) == .pending(programmedGeneration: 1))
        #expect(state.result(for: "backend/web", nodes: ["p": node(acked: "3")]) == .programmed(generation: 2))
    }

    @Test func propagationIsFromFirstSeenToTheLastProxysLastTypeAck() {
        let start = ContinuousClock.now
        var state = ProgrammedState()
        state.record(ir: ir([("web", 1, ["web:80"])]), version: 2, published: true, startedAt: start)
        // The same generation rebuilt in a later version keeps the time it was first seen.
        state.record(ir: ir([("web", 1, ["web:80", "web:443"])]), version: 3, published: true, startedAt: start + .seconds(5))
        let tracker = ProxyTracker()
        for (node, delay) in [("a", 10), ("b", 30)] {
            tracker.streamOpened(node: node)
            for (index, type) in XDSType.allCases.enumerated() {
                tracker.acknowledged(node: node, type: type, version: "3", at: start + .milliseconds(delay + index))
            }
        }
        // Only one of two proxies has every type: not yet measured.
        var partial = tracker.connectedNodes
        partial["b"]?.types[.routeConfiguration] = nil
        #expect(state.propagation(for: "backend/web", nodes: partial) == nil)
        let measured = state.propagation(for: "backend/web", nodes: tracker.connectedNodes)
        #expect(measured?.generation == 1)
        // Node b's last type (of four) is acknowledged at 30 + 3 ms.
        #expect(measured?.latency == .milliseconds(33))
        #expect(measured?.proxies == 2)
        #expect(StatusWriter.format(.milliseconds(32)) == "32ms")
        #expect(StatusWriter.format(.microseconds(12_345)) == "12.345ms")
        // A re-ACK of the same version does not move the time.
        tracker.acknowledged(node: "b", type: .routeConfiguration, version: "3", at: start + .seconds(9))
        #expect(state.propagation(for: "backend/web", nodes: tracker.connectedNodes)?.latency == .milliseconds(33))
        // Pending generations have no propagation.
        state.record(ir: ir([("web", 2, ["web:80"])]), version: 4, published: true, startedAt: start + .seconds(10))
        #expect(state.propagation(for: "backend/web", nodes: tracker.connectedNodes) == nil)
    }

    @Test func rejectionBlamesTheNamedClusterOnly() {
        var state = ProgrammedState()
        state.record(ir: ir([("bad", 1, ["bad:443"]), ("good", 1, ["good:80"])]), version: 4, published: true)
        let nodes = ["p": node(acked: "3", rejected: ("4", "Error adding/updating cluster(s) bad:443: Invalid path"))]
        #expect(
            state.result(for: "backend/bad", nodes: nodes)
                == .rejected(generation: 1, message: "Error adding/updating cluster(s) bad:443: Invalid path"))
        // Envoy applied the rest of that update.
        var applied = nodes
        for type in [XDSType.endpoint, .listener, .routeConfiguration] { applied["p"]?.types[type]?.ackedVersion = "4" }
        #expect(state.result(for: "backend/good", nodes: applied) == .programmed(generation: 1))
    }

    @Test func endpointsCountOnlyForBackendsServedOverEDSOrProxiesSubscribedToThem() {
        var state = ProgrammedState()
        var backends = ir([("static", 1, ["static:80"]), ("dns", 1, ["dns:80"])])
        backends.backends["static"]?.usesEndpointDiscovery = true
        state.record(ir: backends, version: 2, published: true)
        // A proxy that never asked for load assignments (Envoy does once it has an EDS cluster).
        var withoutEDS = node(acked: "2")
        withoutEDS.types[.endpoint] = nil
        #expect(state.result(for: "backend/dns", nodes: ["p": withoutEDS]) == .programmed(generation: 1))
        #expect(
            state.result(for: "backend/static", nodes: ["p": withoutEDS]) == .pending(programmedGeneration: nil),
            "the cluster is warming until its load assignment is acknowledged")
        // Subscribed, but its load assignments are a version behind: neither object is on that proxy yet.
        var behind = node(acked: "2")
        behind.types[.endpoint]?.ackedVersion = "1"
        #expect(state.result(for: "backend/static", nodes: ["p": behind]) == .pending(programmedGeneration: nil))
        #expect(state.result(for: "backend/dns", nodes: ["p": behind]) == .pending(programmedGeneration: nil))
        #expect(state.result(for: "backend/static", nodes: ["p": node(acked: "2")]) == .programmed(generation: 1))
    }

    @Test func deletedObjectsAreForgotten() {
        var state = ProgrammedState()
        state.record(ir: ir([("gone", 1, [])]), version: 1, published: true)
        state.record(ir: ir([]), version: 2, published: true)
        #expect(state.history["backend/gone"] == nil)
    }
}
