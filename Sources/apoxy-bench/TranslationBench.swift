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
                version: String(iteration + 1), clusters: resources.clusters, listeners: resources.listeners,
                routeConfigurations: resources.routeConfigurations)
            let elapsed = ContinuousClock.now - started
            clusters = snapshot[XDSType.cluster].count
            times.append(Double(elapsed.components.attoseconds) / 1e15 + Double(elapsed.components.seconds) * 1000)
        }
        times.sort()
        return (times[times.count / 2], times.last ?? 0, clusters)
    }
}
