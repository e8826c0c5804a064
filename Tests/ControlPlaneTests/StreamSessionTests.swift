import EnvoyAPI
import Logging
import SwiftProtobuf
import Testing

@testable import ApoxyXDS

/// The ADS state machine of one stream, driven with DiscoveryRequests as Envoy sends them.
struct StreamSessionTests {
    func snapshot(_ version: String, clusters: [String]) throws -> Snapshot {
        let cluster = clusters.map { name in
            var cluster = Envoy_Config_Cluster_V3_Cluster()
            cluster.name = name
            return cluster
        }
        var route = Envoy_Config_Route_V3_RouteConfiguration()
        route.name = "apoxy"
        return try Snapshot(version: version, clusters: cluster, listeners: [], routeConfigurations: [route])
    }

    func request(
        _ type: XDSType, version: String = "", nonce: String = "", names: [String] = [], error: String? = nil
    )
        -> Envoy_Service_Discovery_V3_DiscoveryRequest
    {
        var request = Envoy_Service_Discovery_V3_DiscoveryRequest()
        request.typeURL = type.rawValue
        request.versionInfo = version
        request.responseNonce = nonce
        request.resourceNames = names
        var node = Envoy_Config_Core_V3_Node()
        node.id = "proxy-1"
        request.node = node
        if let error {
            var status = Google_Rpc_Status()
            status.code = 3
            status.message = error
            request.errorDetail = status
        }
        return request
    }

    @Test func initialRequestGetsTheCurrentSnapshotAndAckIsRecorded() throws {
        let tracker = ProxyTracker()
        var session = StreamSession(logger: Logger(label: "test"))
        session.snapshot = try snapshot("3", clusters: ["a:80", "b:80"])
        let (opened, responses) = session.handle(request(.cluster), tracker: tracker)
        #expect(opened == "proxy-1")
        try #require(responses.count == 1)
        #expect(responses[0].versionInfo == "3")
        #expect(responses[0].resources.count == 2)
        let ack = session.handle(request(.cluster, version: "3", nonce: responses[0].nonce), tracker: tracker)
        #expect(ack.responses.isEmpty)
        #expect(tracker.nodeState("proxy-1")?.types[.cluster]?.ackedVersion == "3")
    }

    @Test func nackIsRecordedAndNotAnsweredWithTheSameVersion() throws {
        let tracker = ProxyTracker()
        var session = StreamSession(logger: Logger(label: "test"))
        session.snapshot = try snapshot("4", clusters: ["bad:443"])
        let first = session.handle(request(.cluster), tracker: tracker).responses[0]
        let nack = session.handle(
            request(.cluster, version: "", nonce: first.nonce, error: "cluster bad:443: Invalid path"), tracker: tracker)
        #expect(nack.responses.isEmpty)
        let state = try #require(tracker.nodeState("proxy-1")?.types[.cluster])
        #expect(state.rejected?.version == "4")
        #expect(state.rejected?.message == "cluster bad:443: Invalid path")
        #expect(state.ackedVersion == nil)
        // A later snapshot is pushed, and its ACK clears the rejection.
        session.snapshot = try snapshot("5", clusters: ["good:80"])
        let pushes = session.pushes(tracker: tracker)
        #expect(pushes.map(\.versionInfo) == ["5"])
        _ = session.handle(request(.cluster, version: "5", nonce: pushes[0].nonce), tracker: tracker)
        #expect(tracker.nodeState("proxy-1")?.types[.cluster]?.rejected == nil)
        #expect(tracker.nodeState("proxy-1")?.types[.cluster]?.ackedVersion == "5")
    }

    @Test func staleNoncesAreIgnored() throws {
        let tracker = ProxyTracker()
        var session = StreamSession(logger: Logger(label: "test"))
        session.snapshot = try snapshot("1", clusters: ["a:80"])
        let first = session.handle(request(.cluster), tracker: tracker).responses[0]
        session.snapshot = try snapshot("2", clusters: ["a:80", "b:80"])
        _ = session.pushes(tracker: tracker)
        // Envoy's answer to the first push arrives after the second push: it must not count as an ACK of "2".
        let stale = session.handle(request(.cluster, version: "1", nonce: first.nonce), tracker: tracker)
        #expect(stale.responses.isEmpty)
        #expect(tracker.nodeState("proxy-1")?.types[.cluster]?.ackedVersion == nil)
    }

    @Test func routeConfigurationsAreSentByName() throws {
        let tracker = ProxyTracker()
        var session = StreamSession(logger: Logger(label: "test"))
        session.snapshot = try snapshot("1", clusters: [])
        let none = session.handle(request(.routeConfiguration, names: ["other"]), tracker: tracker).responses
        #expect(none.count == 1 && none[0].resources.isEmpty)
        let named = session.handle(request(.routeConfiguration, version: "1", nonce: none[0].nonce, names: ["apoxy"]), tracker: tracker)
        #expect(named.responses.count == 1)
        #expect(named.responses[0].resources.count == 1)
    }

    @Test func pushesGoClustersFirst() throws {
        let tracker = ProxyTracker()
        var session = StreamSession(logger: Logger(label: "test"))
        for type in [XDSType.routeConfiguration, .listener, .cluster] {
            _ = session.handle(request(type, names: type == .routeConfiguration ? ["apoxy"] : []), tracker: tracker)
        }
        session.snapshot = try snapshot("7", clusters: ["a:80"])
        #expect(session.pushes(tracker: tracker).map(\.typeURL) == [XDSType.cluster, .listener, .routeConfiguration].map(\.rawValue))
        #expect(session.pushes(tracker: tracker).isEmpty)
    }

    @Test func inconsistentSnapshotsAreRefused() throws {
        var route = Envoy_Config_Route_V3_RouteConfiguration()
        route.name = "apoxy"
        var host = Envoy_Config_Route_V3_VirtualHost()
        var entry = Envoy_Config_Route_V3_Route()
        var action = Envoy_Config_Route_V3_RouteAction()
        action.cluster = "missing:80"
        entry.route = action
        host.routes = [entry]
        route.virtualHosts = [host]
        #expect(throws: SnapshotError.self) {
            try Snapshot(version: "1", clusters: [], listeners: [], routeConfigurations: [route])
        }
    }

    /// Two clusters under one name used to trap in `Dictionary(uniqueKeysWithValues:)`, taking the process down.
    @Test func aSnapshotWithTwoResourcesOfOneNameIsRefused() throws {
        #expect(throws: SnapshotError.self) { try snapshot("1", clusters: ["twin", "twin"]) }
        do {
            _ = try snapshot("1", clusters: ["twin", "twin"])
        } catch {
            #expect((error as? SnapshotError)?.problems == ["two of cluster twin"])
        }
    }
}
