import EnvoyAPI
import HashTreeCollections
import Logging
import SwiftProtobuf
import Testing

@testable import ApoxyXDS

/// The incremental (delta) ADS state machine of one stream, driven with DeltaDiscoveryRequests as Envoy sends them,
/// over snapshots published through a real `SnapshotStore`.
struct DeltaStreamSessionTests {
    static func cluster(_ name: String, port: UInt32 = 80) -> Envoy_Config_Cluster_V3_Cluster {
        var cluster = Envoy_Config_Cluster_V3_Cluster()
        cluster.name = name
        // Something that changes the encoding, to edit a cluster without renaming it.
        cluster.loadAssignment.clusterName = "\(name)@\(port)"
        return cluster
    }

    static func snapshot(_ clusters: [Envoy_Config_Cluster_V3_Cluster]) throws -> Snapshot {
        var route = Envoy_Config_Route_V3_RouteConfiguration()
        route.name = "apoxy"
        return try Snapshot(version: "", clusters: clusters, listeners: [], routeConfigurations: [route])
    }

    func request(
        _ type: XDSType, nonce: String = "", subscribe: [String] = [], unsubscribe: [String] = [],
        initial: [String: String] = [:], error: String? = nil
    ) -> Envoy_Service_Discovery_V3_DeltaDiscoveryRequest {
        var request = Envoy_Service_Discovery_V3_DeltaDiscoveryRequest()
        request.typeURL = type.rawValue
        request.responseNonce = nonce
        request.resourceNamesSubscribe = subscribe
        request.resourceNamesUnsubscribe = unsubscribe
        request.initialResourceVersions = initial
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

    let store = SnapshotStore()
    let tracker = ProxyTracker()

    func session() -> DeltaStreamSession {
        var session = DeltaStreamSession(logger: Logger(label: "test"))
        session.snapshot = store.current
        return session
    }

    @Test func wildcardSubscriptionGetsEverythingThenOnlyWhatChanged() throws {
        store.publish(try Self.snapshot([Self.cluster("a:80"), Self.cluster("b:80")]))
        var session = session()
        let (opened, first) = session.handle(request(.cluster), tracker: tracker)
        #expect(opened == "proxy-1")
        try #require(first.count == 1)
        #expect(first[0].resources.map(\.name) == ["a:80", "b:80"])
        #expect(first[0].systemVersionInfo == "1")
        #expect(first[0].resources.allSatisfy { $0.version.count == 16 })
        _ = session.handle(request(.cluster, nonce: first[0].nonce), tracker: tracker)
        #expect(tracker.nodeState("proxy-1")?.types[.cluster]?.ackedVersion == "1")

        // b edited, c added, a unchanged: the push carries b and c only.
        store.publish(try Self.snapshot([Self.cluster("a:80"), Self.cluster("b:80", port: 81), Self.cluster("c:80")]))
        session.snapshot = store.current
        let second = session.pushes(tracker: tracker).filter { $0.typeURL == XDSType.cluster.rawValue }
        try #require(second.count == 1)
        #expect(second[0].resources.map(\.name) == ["b:80", "c:80"])
        #expect(second[0].removedResources.isEmpty)

        // a removed: only its name goes, as removed_resources.
        _ = session.handle(request(.cluster, nonce: second[0].nonce), tracker: tracker)
        store.publish(try Self.snapshot([Self.cluster("b:80", port: 81), Self.cluster("c:80")]))
        session.snapshot = store.current
        let third = session.pushes(tracker: tracker).filter { $0.typeURL == XDSType.cluster.rawValue }
        try #require(third.count == 1)
        #expect(third[0].resources.isEmpty)
        #expect(third[0].removedResources == ["a:80"])
        _ = session.handle(request(.cluster, nonce: third[0].nonce), tracker: tracker)
        #expect(tracker.nodeState("proxy-1")?.types[.cluster]?.ackedVersion == "3")
    }

    @Test func aSnapshotSkippedByCoalescingIsStillDiffedCorrectly() throws {
        store.publish(try Self.snapshot([Self.cluster("a:80"), Self.cluster("b:80")]))
        var session = session()
        let first = session.handle(request(.cluster), tracker: tracker).responses
        _ = session.handle(request(.cluster, nonce: first[0].nonce), tracker: tracker)
        // Two versions published while the stream was busy; it sees only the last one.
        store.publish(try Self.snapshot([Self.cluster("a:80"), Self.cluster("b:80"), Self.cluster("c:80")]))
        store.publish(try Self.snapshot([Self.cluster("b:80", port: 9)]))
        session.snapshot = store.current
        #expect(store.current.changes?.since == "2")
        let push = try #require(session.pushes(tracker: tracker).first { $0.typeURL == XDSType.cluster.rawValue })
        #expect(push.resources.map(\.name) == ["b:80"])
        #expect(push.removedResources == ["a:80"])
    }

    @Test func namedSubscriptionsSubscribeAndUnsubscribe() throws {
        store.publish(try Self.snapshot([]))
        var session = session()
        let first = session.handle(request(.routeConfiguration, subscribe: ["apoxy"]), tracker: tracker).responses
        try #require(first.count == 1)
        #expect(first[0].resources.map(\.name) == ["apoxy"])
        _ = session.handle(request(.routeConfiguration, nonce: first[0].nonce), tracker: tracker)
        // Unsubscribing sends nothing; subscribing again sends it again (Envoy dropped it).
        let unsubscribed = session.handle(request(.routeConfiguration, unsubscribe: ["apoxy"]), tracker: tracker)
        #expect(unsubscribed.responses.allSatisfy { $0.resources.isEmpty })
        let again = session.handle(request(.routeConfiguration, subscribe: ["apoxy"]), tracker: tracker).responses
        #expect(again.first?.resources.map(\.name) == ["apoxy"])
        // A name that does not exist is not sent.
        let missing = session.handle(request(.routeConfiguration, subscribe: ["other"]), tracker: tracker).responses
        #expect(missing.allSatisfy { $0.resources.isEmpty })
    }

    @Test func aNackedResourceIsSentAgainWithTheNextPushAndTheRejectionKept() throws {
        store.publish(try Self.snapshot([Self.cluster("bad:443"), Self.cluster("good:80")]))
        var session = session()
        let first = session.handle(request(.cluster), tracker: tracker).responses[0]
        _ = session.handle(request(.cluster, nonce: first.nonce, error: "cluster bad:443: invalid"), tracker: tracker)
        let state = try #require(tracker.nodeState("proxy-1")?.types[.cluster])
        #expect(state.rejected?.version == "1")
        #expect(state.rejected?.message == "cluster bad:443: invalid")
        #expect(state.ackedVersion == nil)
        // An unrelated change: the push carries it and the resources of the rejected push again.
        store.publish(try Self.snapshot([Self.cluster("bad:443"), Self.cluster("good:80"), Self.cluster("new:80")]))
        session.snapshot = store.current
        let push = try #require(session.pushes(tracker: tracker).first { $0.typeURL == XDSType.cluster.rawValue })
        #expect(push.resources.map(\.name) == ["bad:443", "good:80", "new:80"])
        _ = session.handle(request(.cluster, nonce: push.nonce), tracker: tracker)
        #expect(tracker.nodeState("proxy-1")?.types[.cluster]?.rejected == nil)
        #expect(tracker.nodeState("proxy-1")?.types[.cluster]?.ackedVersion == "2")
    }

    /// An EDS cluster and its load assignment, with `port` changing the cluster and `address` the endpoints.
    static func edsSnapshot(_ clusters: [(name: String, port: UInt32, address: String)]) throws -> Snapshot {
        var route = Envoy_Config_Route_V3_RouteConfiguration()
        route.name = "apoxy"
        let built = clusters.map { entry in
            var cluster = Envoy_Config_Cluster_V3_Cluster()
            cluster.name = entry.name
            cluster.type = .eds
            cluster.edsClusterConfig.edsConfig.ads = Envoy_Config_Core_V3_AggregatedConfigSource()
            cluster.connectTimeout.seconds = Int64(entry.port)
            var assignment = Envoy_Config_Endpoint_V3_ClusterLoadAssignment()
            assignment.clusterName = entry.name
            var endpoint = Envoy_Config_Endpoint_V3_LbEndpoint()
            endpoint.endpoint.address.socketAddress.address = entry.address
            assignment.endpoints = [Envoy_Config_Endpoint_V3_LocalityLbEndpoints.with { $0.lbEndpoints = [endpoint] }]
            return (cluster, assignment)
        }
        return try Snapshot(
            version: "", clusters: built.map(\.0), loadAssignments: built.map(\.1), listeners: [],
            routeConfigurations: [route])
    }

    @Test func aReplacedEDSClusterIsSentItsUnchangedLoadAssignmentAgain() throws {
        store.publish(try Self.edsSnapshot([("a:80", 1, "10.0.0.1"), ("b:80", 1, "10.0.0.2")]))
        var session = session()
        let clusters = session.handle(request(.cluster), tracker: tracker).responses
        _ = session.handle(request(.cluster, nonce: clusters[0].nonce), tracker: tracker)
        // Envoy asks for the load assignments of the EDS clusters it was sent.
        let endpoints = session.handle(request(.endpoint, subscribe: ["a:80", "b:80"]), tracker: tracker).responses
        #expect(endpoints.map { $0.resources.map(\.name) } == [["a:80", "b:80"]])
        _ = session.handle(request(.endpoint, nonce: endpoints[0].nonce), tracker: tracker)

        // a's endpoints edited: only its load assignment goes, the cluster stays.
        store.publish(try Self.edsSnapshot([("a:80", 1, "10.0.0.9"), ("b:80", 1, "10.0.0.2")]))
        session.snapshot = store.current
        let edit = session.pushes(tracker: tracker)
        #expect(edit.map(\.typeURL) == [XDSType.endpoint.rawValue])
        #expect(edit.first?.resources.map(\.name) == ["a:80"])
        _ = session.handle(request(.endpoint, nonce: edit[0].nonce), tracker: tracker)

        // b's cluster replaced, its endpoints unchanged: Envoy re-creates b and warms it until a load assignment
        // arrives, without asking (its subscription is the same), so b's goes again right after the cluster.
        store.publish(try Self.edsSnapshot([("a:80", 1, "10.0.0.9"), ("b:80", 2, "10.0.0.2")]))
        session.snapshot = store.current
        let replaced = session.pushes(tracker: tracker)
        #expect(replaced.map(\.typeURL) == [XDSType.cluster.rawValue, XDSType.endpoint.rawValue])
        #expect(replaced.map { $0.resources.map(\.name) } == [["b:80"], ["b:80"]])
        for response in replaced {
            _ = session.handle(request(XDSType(rawValue: response.typeURL)!, nonce: response.nonce), tracker: tracker)
        }
        #expect(tracker.nodeState("proxy-1")?.types[.endpoint]?.ackedVersion == "3")
        // Nothing else is due.
        #expect(session.pushes(tracker: tracker).allSatisfy { $0.resources.isEmpty && $0.removedResources.isEmpty })
    }

    @Test func reconnectWithInitialVersionsSendsOnlyWhatDiffers() throws {
        store.publish(try Self.snapshot([Self.cluster("a:80"), Self.cluster("b:80", port: 81)]))
        let versions = store.current[.cluster]
        var session = session()
        // Envoy held a at the current version, b at an older one, and z that no longer exists.
        let initial = ["a:80": versions["a:80"]!.version, "b:80": "0000000000000000", "z:80": "0000000000000001"]
        let first = session.handle(request(.cluster, initial: initial), tracker: tracker).responses
        try #require(first.count == 1)
        #expect(first[0].resources.map(\.name) == ["b:80"])
        #expect(first[0].removedResources == ["z:80"])
    }

    @Test func anUnchangedTypeCountsAsAppliedWithoutAPush() throws {
        store.publish(try Self.snapshot([Self.cluster("a:80")]))
        var session = session()
        for type in [XDSType.cluster, .listener] {
            let response = session.handle(request(type), tracker: tracker).responses[0]
            _ = session.handle(request(type, nonce: response.nonce), tracker: tracker)
        }
        store.publish(try Self.snapshot([Self.cluster("a:80"), Self.cluster("b:80")]))
        session.snapshot = store.current
        let pushes = session.pushes(tracker: tracker)
        #expect(pushes.map(\.typeURL) == [XDSType.cluster.rawValue])
        // Listeners did not change and every listener push was ACKed: Envoy holds version 2 of them.
        #expect(tracker.nodeState("proxy-1")?.types[.listener]?.ackedVersion == "2")
        #expect(tracker.nodeState("proxy-1")?.types[.cluster]?.ackedVersion == "1")
    }

    @Test func storeVersionsOnlyRealChanges() throws {
        #expect(store.publish(try Self.snapshot([Self.cluster("a:80")])) == "1")
        #expect(store.publish(try Self.snapshot([Self.cluster("a:80")])) == nil)
        var update = ResourceUpdate()
        update.upserts[.cluster] = ["a:80": try Google_Protobuf_Any(message: Self.cluster("a:80"))]
        #expect(store.apply(update) == nil)
        update.upserts[.cluster] = ["b:80": try Google_Protobuf_Any(message: Self.cluster("b:80"))]
        update.removals[.cluster] = ["a:80"]
        #expect(store.apply(update) == "2")
        #expect(Array(store.current[.cluster].keys) == ["b:80"])
        #expect(store.current.changes?.names[.cluster] == ["a:80", "b:80"])
    }
}

extension DeltaStreamSessionTests {
    /// The race seen end to end: a second push goes out before Envoy's NACK of the first arrives. Its ACK must not
    /// clear the rejection, because Envoy still lacks the rejected cluster; the cluster is sent again at once.
    @Test func anAckOfAPushSentBeforeTheNackDoesNotClearTheRejection() throws {
        store.publish(try Self.snapshot([Self.cluster("bad:443")]))
        var session = session()
        let first = session.handle(request(.cluster), tracker: tracker).responses[0]
        store.publish(try Self.snapshot([Self.cluster("bad:443"), Self.cluster("good:80")]))
        session.snapshot = store.current
        let second = try #require(session.pushes(tracker: tracker).first)
        #expect(second.resources.map(\.name) == ["good:80"])
        _ = session.handle(request(.cluster, nonce: first.nonce, error: "cluster bad:443: invalid"), tracker: tracker)
        let resend = session.handle(request(.cluster, nonce: second.nonce), tracker: tracker).responses
        #expect(tracker.nodeState("proxy-1")?.types[.cluster]?.rejected?.version == "1")
        #expect(tracker.nodeState("proxy-1")?.types[.cluster]?.ackedVersion == nil)
        try #require(resend.count == 1)
        #expect(resend[0].resources.map(\.name) == ["bad:443"])
        _ = session.handle(request(.cluster, nonce: resend[0].nonce, error: "cluster bad:443: invalid"), tracker: tracker)
        #expect(tracker.nodeState("proxy-1")?.types[.cluster]?.rejected?.version == "2")
    }
}
