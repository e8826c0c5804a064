import ApoxyAPI
import ApoxyTranslation
import EnvoyAPI
import Foundation
import HashTreeCollections
import SwiftProtobuf
import Testing

/// The incremental translation against the full one: over random sequences of creates, edits and deletes of Backends
/// and routes, the resources and outcomes built from the incremental changes always equal `Translator.translate` of
/// the same objects.
struct IncrementalTranslatorTests {
    /// SplitMix64: deterministic, so a failing seed can be replayed.
    struct SeededGenerator: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9e37_79b9_7f4a_7c15
            var z = state
            z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
            z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
            return z ^ (z >> 31)
        }
    }

    /// What a consumer of the changes holds: the resources and outcomes applied so far.
    struct Applied {
        var clusters: [String: Envoy_Config_Cluster_V3_Cluster] = [:]
        var loadAssignments: [String: Envoy_Config_Endpoint_V3_ClusterLoadAssignment] = [:]
        var listener: Envoy_Config_Listener_V3_Listener?
        var routeConfiguration: Data?
        var backends: [String: GatewayIR.BackendOutcome] = [:]
        var routes: [String: GatewayIR.RouteOutcome] = [:]

        mutating func apply(_ changes: TranslationChanges, from translator: IncrementalTranslator) {
            for name in changes.removedClusters { clusters[name] = nil }
            clusters.merge(changes.clusters) { $1 }
            for name in changes.removedLoadAssignments { loadAssignments[name] = nil }
            loadAssignments.merge(changes.loadAssignments) { $1 }
            if let listener = changes.listener { self.listener = listener }
            if let routes = changes.routeConfiguration { routeConfiguration = routes.value }
            for name in changes.backends { backends[name] = translator.outcomes.backends[name] }
            for name in changes.routes { routes[name] = translator.outcomes.routes[name] }
        }
    }

    static let backendNames = (0..<7).map { "b\($0)" }
    static let routeNames = (0..<7).map { "r\($0)" }
    static let hostnames = ["a.example.com", "b.example.com", "*.example.com", "example.com"]

    static func randomBackend(_ name: String, using random: inout SeededGenerator) -> Backend {
        var metadata = ObjectMeta(name: name)
        metadata.generation = Int64.random(in: 1...5, using: &random)
        var spec = BackendSpec(protocol: ["", "", "tls", "h2", "h2c"].randomElement(using: &random)!)
        switch Int.random(in: 0..<10, using: &random) {
        case 0..<4:
            spec.endpoints = (0..<Int.random(in: 1...3, using: &random)).map { _ in
                BackendEndpoint(ip: "10.0.0.\(Int.random(in: 1...4, using: &random))")
            }
        case 4..<6:
            spec.endpoints = [BackendEndpoint(fqdn: ["a.internal", "b.internal"].randomElement(using: &random)!)]
        case 6..<8:
            spec.endpoints = [BackendEndpoint(fqdn: "upstream.internal")]
            spec.dynamicProxy = DynamicProxySpec(
                dnsCacheConfig: Bool.random(using: &random)
                    ? nil : DynamicProxyDnsCacheConfig(dnsRefreshRate: ["30s", "1m"].randomElement(using: &random)!))
        case 8:
            spec.protocol = "carrier-pigeon"
            spec.endpoints = [BackendEndpoint(ip: "10.0.0.1")]
        default:
            spec.endpoints = []
        }
        return Backend(metadata: metadata, spec: spec)
    }

    static func randomRoute(_ name: String, using random: inout SeededGenerator) -> RouteSource {
        let hostnames =
            Int.random(in: 0..<3, using: &random) == 0
            ? [] : Array(hostnames.shuffled(using: &random).prefix(Int.random(in: 1...2, using: &random)))
        let rules = (0..<Int.random(in: 1...2, using: &random)).map { _ in
            let matches = (0..<Int.random(in: 0...2, using: &random)).map { _ in
                RouteSource.Match(
                    pathType: Bool.random(using: &random) ? .pathPrefix : .exact,
                    path: ["/", "/api", "/api/v1", "/x"].randomElement(using: &random)!,
                    method: Bool.random(using: &random) ? nil : "GET")
            }
            let refs = (0..<Int.random(in: 1...2, using: &random)).map { _ in
                RouteSource.BackendRef(
                    name: (backendNames + ["missing"]).randomElement(using: &random)!,
                    port: [nil, 80, 8080].randomElement(using: &random)!,
                    weight: [0, 1, 1, 3].randomElement(using: &random)!)
            }
            return RouteSource.Rule(matches: matches, backendRefs: refs)
        }
        return RouteSource(
            name: name, generation: Int64.random(in: 1...5, using: &random), hostnames: hostnames, rules: rules)
    }

    @Test(arguments: [1, 2, 3, 4, 5, 6, 7, 8] as [UInt64])
    func incrementalEqualsFullOverRandomChanges(seed: UInt64) throws {
        var random = SeededGenerator(state: seed)
        let options = TranslatorOptions(dnsResolver: .init(host: "127.0.0.1", port: 5353))
        var translator = IncrementalTranslator(options: options)
        var applied = Applied()
        var backends: [String: Backend] = [:]
        var routes: [String: RouteSource] = [:]
        for step in 0..<150 {
            var changes = SourceChanges()
            for _ in 0..<Int.random(in: 1...3, using: &random) {
                let deleting = Int.random(in: 0..<4, using: &random) == 0
                if Bool.random(using: &random) {
                    let name = Self.backendNames.randomElement(using: &random)!
                    let backend = deleting ? nil : Self.randomBackend(name, using: &random)
                    backends[name] = backend
                    changes.backends[name] = .some(backend)
                } else {
                    let name = Self.routeNames.randomElement(using: &random)!
                    let route = deleting ? nil : Self.randomRoute(name, using: &random)
                    routes[name] = route
                    changes.routes[name] = .some(route)
                }
            }
            applied.apply(try translator.apply(changes), from: translator)

            let (ir, full) = try Translator.translate(
                backends: Array(backends.values), routes: Array(routes.values), options: options)
            let context = Comment(rawValue: "seed \(seed), step \(step)")
            #expect(translator.outcomes.backends == ir.backends, context)
            #expect(translator.outcomes.routes == ir.routes, context)
            #expect(applied.backends == Dictionary(uniqueKeysWithValues: ir.backends.map { ($0.key, $0.value) }), context)
            #expect(applied.routes == Dictionary(uniqueKeysWithValues: ir.routes.map { ($0.key, $0.value) }), context)
            #expect(applied.clusters == Dictionary(uniqueKeysWithValues: full.clusters.map { ($0.name, $0) }), context)
            #expect(
                applied.loadAssignments == Dictionary(uniqueKeysWithValues: full.loadAssignments.map { ($0.clusterName, $0) }),
                context)
            #expect(applied.listener == full.listeners.first, context)
            let expectedRoutes: Data = try full.routeConfigurations[0].serializedBytes(options: Translator.deterministic)
            #expect(applied.routeConfiguration == expectedRoutes, context)
            if applied.routeConfiguration != expectedRoutes { return }
        }
    }

    @Test func unchangedInputChangesNothing() throws {
        var translator = IncrementalTranslator(options: TranslatorOptions())
        var changes = SourceChanges()
        changes.backends["web"] = Backend(
            metadata: ObjectMeta(name: "web"), spec: BackendSpec(endpoints: [BackendEndpoint(ip: "10.0.0.1")]))
        changes.routes["web"] = RouteSource(
            name: "web", hostnames: ["web.example.com"], rules: [.init(backendRefs: [.init(name: "web", port: 80)])])
        let first = try translator.apply(changes)
        #expect(first.clusters.keys.sorted() == ["web:80"])
        #expect(first.listener != nil && first.routeConfiguration != nil)
        let again = try translator.apply(changes)
        #expect(again.resourcesUnchanged)
        #expect(again.backends == ["web"], "the Backend was applied again, so its outcome is reported")
    }

    @Test func endpointEditChangesOnlyItsCluster() throws {
        var translator = IncrementalTranslator(options: TranslatorOptions())
        var changes = SourceChanges()
        for index in 0..<3 {
            changes.backends["b\(index)"] = Backend(
                metadata: ObjectMeta(name: "b\(index)"), spec: BackendSpec(endpoints: [BackendEndpoint(ip: "10.0.0.1")]))
            changes.routes["r\(index)"] = RouteSource(
                name: "r\(index)", hostnames: ["h\(index).example.com"], rules: [.init(backendRefs: [.init(name: "b\(index)", port: 80)])])
        }
        let before = try translator.apply(changes)
        var edit = SourceChanges()
        edit.backends["b1"] = Backend(
            metadata: ObjectMeta(name: "b1"), spec: BackendSpec(endpoints: [BackendEndpoint(ip: "10.0.0.2")]))
        let result = try translator.apply(edit)
        #expect(result.clusters.keys.sorted() == ["b1:80"])
        // The endpoints travel over EDS: the cluster itself encodes as before, so Envoy keeps it (and its connections).
        #expect(result.clusters["b1:80"] == before.clusters["b1:80"])
        #expect(result.clusters["b1:80"]?.type == .eds)
        #expect(result.loadAssignments.keys.sorted() == ["b1:80"])
        #expect(result.loadAssignments["b1:80"]?.endpoints.first?.lbEndpoints.first?.endpoint.address.socketAddress.address == "10.0.0.2")
        #expect(result.removedClusters.isEmpty)
        #expect(result.listener == nil)
        #expect(result.routeConfiguration == nil, "the route still sends to b1:80, so no virtual host changed")

        var delete = SourceChanges()
        delete.routes["r2"] = .some(nil)
        let deleted = try translator.apply(delete)
        #expect(deleted.removedClusters == ["b2:80"])
        #expect(deleted.removedLoadAssignments == ["b2:80"])
        #expect(deleted.routeConfiguration != nil)
        #expect(deleted.routes == ["r2"])
        #expect(deleted.backends == ["b2"], "b2 lost its cluster")
        #expect(translator.outcomes.backends["b2"]?.clusters == [])
    }
}
