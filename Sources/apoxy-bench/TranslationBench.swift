import ApoxyAPI
import ApoxyTranslation
import ApoxyXDS

/// Translation alone, without HTTP or Envoy: N Backends, each with its own HTTPRoute, to a checked snapshot.
enum TranslationBench {
    static func run(backends count: Int, iterations: Int) throws -> (p50: Double, max: Double, clusters: Int) {
        let backends = (0..<count).map { index in
            var metadata = ObjectMeta(name: "backend-\(index)")
            metadata.generation = 1
            return Backend(
                metadata: metadata,
                spec: BackendSpec(endpoints: [BackendEndpoint(ip: "10.0.\(index / 250).\(index % 250 + 1)")]))
        }
        let routes = (0..<count).map { index in
            RouteSource(
                name: "route-\(index)", hostnames: ["app-\(index).example.com"],
                rules: [.init(backendRefs: [.init(name: "backend-\(index)", port: 8080)])])
        }
        let options = TranslatorOptions()
        var times: [Double] = []
        var clusters = 0
        for iteration in 0..<iterations {
            let started = ContinuousClock.now
            let (_, resources) = try Translator.translate(backends: backends, routes: routes, options: options)
            let snapshot = try Snapshot(
                version: String(iteration + 1), clusters: resources.clusters, loadAssignments: resources.loadAssignments,
                listeners: resources.listeners,
                routeConfigurations: resources.routeConfigurations)
            let elapsed = ContinuousClock.now - started
            clusters = snapshot[XDSType.cluster].count
            times.append(Double(elapsed.components.attoseconds) / 1e15 + Double(elapsed.components.seconds) * 1000)
        }
        times.sort()
        return (times[times.count / 2], times.last ?? 0, clusters)
    }

    /// One change at a time with `count` Backends present, through the incremental translator: an endpoint edit
    /// (one cluster) and a new route with its own host (one more virtual host, so the route configuration is
    /// re-assembled). Milliseconds, p50 and max of each, and the full first translation for comparison.
    static func incremental(
        backends count: Int, changes: Int
    ) throws -> (first: Double, endpointP50: Double, endpointMax: Double, routeP50: Double, routeMax: Double) {
        func backend(_ index: Int, address: Int = 1) -> Backend {
            var metadata = ObjectMeta(name: "backend-\(index)")
            metadata.generation = Int64(address)
            return Backend(
                metadata: metadata,
                spec: BackendSpec(endpoints: [BackendEndpoint(ip: "10.\(address % 250).\(index / 250).\(index % 250 + 1)")]))
        }
        func route(_ index: Int) -> RouteSource {
            RouteSource(
                name: "route-\(index)", hostnames: ["app-\(index).example.com"],
                rules: [.init(backendRefs: [.init(name: "backend-\(index % count)", port: 8080)])])
        }
        func milliseconds(_ elapsed: Duration) -> Double {
            Double(elapsed.components.attoseconds) / 1e15 + Double(elapsed.components.seconds) * 1000
        }
        var translator = IncrementalTranslator(options: TranslatorOptions())
        var all = SourceChanges()
        for index in 0..<count {
            all.backends["backend-\(index)"] = backend(index)
            all.routes["route-\(index)"] = route(index)
        }
        var started = ContinuousClock.now
        _ = try translator.apply(all)
        let first = milliseconds(ContinuousClock.now - started)
        var endpointTimes: [Double] = []
        var routeTimes: [Double] = []
        for change in 0..<changes {
            var edit = SourceChanges()
            let index = (change * 7919) % count
            edit.backends["backend-\(index)"] = backend(index, address: change + 2)
            started = ContinuousClock.now
            _ = try translator.apply(edit)
            endpointTimes.append(milliseconds(ContinuousClock.now - started))
            var add = SourceChanges()
            add.routes["route-\(count + change)"] = route(count + change)
            started = ContinuousClock.now
            _ = try translator.apply(add)
            routeTimes.append(milliseconds(ContinuousClock.now - started))
        }
        endpointTimes.sort()
        routeTimes.sort()
        return (
            first, endpointTimes[endpointTimes.count / 2], endpointTimes.last ?? 0, routeTimes[routeTimes.count / 2],
            routeTimes.last ?? 0
        )
    }
}
