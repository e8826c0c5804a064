import ApoxyAPI
import HashTreeCollections
import Logging
import Testing

@testable import ApoxyControlPlane
@testable import ApoxyTranslation
@testable import ApoxyXDS

/// Envoy's `/clusters?format=json` turned into `status.proxies[].endpoints`, and written only when it changes.
struct EndpointHealthMonitorTests {
    /// The shape Envoy 1.40 answers, trimmed to the members read.
    static let document = """
        {"cluster_statuses": [
          {"name": "web:80", "host_statuses": [
            {"address": {"socket_address": {"address": "127.0.0.2", "port_value": 80}}, "hostname": "web.test",
             "health_status": {"eds_health_status": "HEALTHY", "failed_outlier_check": true}},
            {"address": {"socket_address": {"address": "127.0.0.1", "port_value": 80}}, "hostname": "web.test",
             "health_status": {"eds_health_status": "HEALTHY"}}]},
          {"name": "ip:8080", "host_statuses": [
            {"address": {"socket_address": {"address": "10.0.0.1", "port_value": 8080}}, "hostname": "10.0.0.1",
             "health_status": {"eds_health_status": "DEGRADED"}},
            {"address": {"socket_address": {"address": "10.0.0.2", "port_value": 8080}},
             "health_status": {"eds_health_status": "HEALTHY", "failed_active_health_check": true, "pending_dynamic_removal": true}}]},
          {"name": "apoxy-xds"}
        ]}
        """

    @Test func hostsAreReadWithTheirResolvedNameAndEnvoysHealthFlags() throws {
        let observed = EndpointHealthMonitor.observed(try JSONValue.parse(Self.document))
        #expect(
            observed["web:80"] == [
                ObservedEndpoint(cluster: "web:80", address: "127.0.0.1", port: 80, hostname: "web.test", health: "Healthy"),
                ObservedEndpoint(
                    cluster: "web:80", address: "127.0.0.2", port: 80, hostname: "web.test", health: "Unhealthy",
                    reasons: ["failed_outlier_check"]),
            ])
        #expect(
            observed["ip:8080"] == [
                // An IP endpoint's hostname is its own address: not repeated.
                ObservedEndpoint(
                    cluster: "ip:8080", address: "10.0.0.1", port: 8080, health: "Degraded", reasons: ["eds_health_status: DEGRADED"]),
                ObservedEndpoint(
                    cluster: "ip:8080", address: "10.0.0.2", port: 8080, health: "Unhealthy",
                    reasons: ["failed_active_health_check", "pending_dynamic_removal"]),
            ])
        #expect(observed["apoxy-xds"] == [])
    }

    @Test func endpointsGoInTheBackplanesOwnEntryOnlyWhenTheyChange() throws {
        var state = ProgrammedState()
        var ir = GatewayIR()
        ir.backends["web"] = .init(generation: 1, accepted: true, reason: "Accepted", message: "", clusters: ["web:80"])
        state.record(ir: ir, version: 2, published: true)
        let node = ProxyTracker.NodeState.acknowledging("2")
        let writer = StatusWriterTests().writer("edge")
        let observed = EndpointHealthMonitor.observed(try JSONValue.parse(Self.document))
        var object: JSONValue = ["metadata": ["name": "web", "generation": 1]]
        let status = try #require(
            writer.backendStatus(
                name: "web", object: object, outcome: ir.backends["web"]!, programmed: state, nodes: ["n": node],
                observed: observed, now: 1_800_000_000))
        let endpoints = (status["proxies"]?[0]?["endpoints"]?.arrayValue ?? []).map { ObservedEndpoint(json: $0) }
        #expect(endpoints == observed["web:80"])

        object["status"] = status
        #expect(
            writer.backendStatus(
                name: "web", object: object, outcome: ir.backends["web"]!, programmed: state, nodes: ["n": node],
                observed: observed, now: 1_800_000_100) == nil)
        var healed = observed
        healed["web:80"]?[1].health = "Healthy"
        healed["web:80"]?[1].reasons = []
        let rewritten = try #require(
            writer.backendStatus(
                name: "web", object: object, outcome: ir.backends["web"]!, programmed: state, nodes: ["n": node],
                observed: healed, now: 1_800_000_200))
        let healedEndpoints = (rewritten["proxies"]?[0]?["endpoints"]?.arrayValue ?? []).map { ObservedEndpoint(json: $0) }
        #expect(healedEndpoints.count == 2)
        #expect(healedEndpoints.allSatisfy { $0.isHealthy })
    }
}
