@testable import ApoxyTranslation
import Testing

@testable import ApoxyControlPlane
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

    @Test func rejectionBlamesTheNamedClusterOnly() {
        var state = ProgrammedState()
        state.record(ir: ir([("bad", 1, ["bad:443"]), ("good", 1, ["good:80"])]), version: 4, published: true)
        let nodes = ["p": node(acked: "3", rejected: ("4", "Error adding/updating cluster(s) bad:443: Invalid path"))]
        #expect(state.result(for: "backend/bad", nodes: nodes) == .rejected(generation: 1, message: "Error adding/updating cluster(s) bad:443: Invalid path"))
        // Envoy applied the rest of that update.
        var applied = nodes
        for type in [XDSType.listener, .routeConfiguration] { applied["p"]?.types[type]?.ackedVersion = "4" }
        #expect(state.result(for: "backend/good", nodes: applied) == .programmed(generation: 1))
    }

    @Test func deletedObjectsAreForgotten() {
        var state = ProgrammedState()
        state.record(ir: ir([("gone", 1, [])]), version: 1, published: true)
        state.record(ir: ir([]), version: 2, published: true)
        #expect(state.history["backend/gone"] == nil)
    }
}
