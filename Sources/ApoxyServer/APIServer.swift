import ApoxyAPI
import ApoxyRegistry
import ApoxyStorage
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import ServiceLifecycle

/// Settings of the API server.
public struct APIServerConfiguration: Sendable {
    /// kube-apiserver's request body limit (3 MiB); larger bodies get 413.
    public static let maxRequestBodyBytes = 3 * 1024 * 1024

    /// Address to listen on.
    public var host: String
    /// Port to listen on; 0 picks a free port (see `onListening`).
    public var port: Int
    /// How often an idle watch that allows bookmarks gets one.
    public var bookmarkInterval: Duration

    /// Creates a configuration.
    public init(host: String = "127.0.0.1", port: Int = 8080, bookmarkInterval: Duration = .seconds(30)) {
        self.host = host
        self.port = port
        self.bookmarkInterval = bookmarkInterval
    }
}

/// The Kubernetes-style API server for Apoxy resources, as a Hummingbird application (a swift-service-lifecycle
/// `Service`).
public enum APIServer {
    /// The strategies of the served resources, in discovery order: serving another resource means adding its
    /// strategy here (its type carries the descriptor and schema); every verb comes from the generic endpoints.
    static let strategies: [any ResourceStrategy] = [BackendStrategy(), HTTPRouteStrategy()]

    /// The resources this server serves.
    public static var resources: [ResourceDescriptor] { strategies.map(\.descriptor) }

    /// Builds the application over `storage`. `onListening` receives the bound port once the server accepts connections.
    public static func application(
        storage: any RevisionedStorage, configuration: APIServerConfiguration, logger: Logger,
        services: [any Service] = [],
        onListening: @escaping @Sendable (Int) async -> Void = { _ in }
    ) -> some ApplicationProtocol {
        let now: @Sendable () -> Int64 = { Int64(Date().timeIntervalSince1970) }
        let router = Router(context: APIRequestContext.self)
        router.middlewares.add(StatusErrorMiddleware(logger: logger))
        let caches = strategies.map { strategy in
            serve(strategy, storage: storage, router: router, configuration: configuration, logger: logger, now: now)
        }
        registerDiscovery(on: router, resources: resources)
        registerHealth(on: router, storage: storage)
        return Application(
            router: router,
            server: .http1(configuration: HTTP1Channel.Configuration(additionalChannelHandlers: [CloseOnInputClosedHandler()])),
            configuration: ApplicationConfiguration(address: .hostname(configuration.host, port: configuration.port), serverName: nil),
            services: caches + services,
            onServerRunning: { channel in await onListening(channel.localAddress?.port ?? configuration.port) },
            logger: logger)
    }

    /// Registers every verb of one resource on `router`, over a store fed by its own watch cache; returns the
    /// cache, a service the application must run.
    static func serve<Strategy: ResourceStrategy>(
        _ strategy: Strategy, storage: any RevisionedStorage, router: Router<APIRequestContext>,
        configuration: APIServerConfiguration, logger: Logger, now: @escaping @Sendable () -> Int64
    ) -> any Service {
        let cache = WatchCache<Strategy.Object>(
            storage: storage, keyPrefix: ResourceStore<Strategy>.keyPrefix, selectableFields: SelectableFields(strategy.selectableFields),
            tickInterval: min(configuration.bookmarkInterval, .seconds(1)), logger: logger)
        let endpoints = ResourceEndpoints(
            store: ResourceStore(storage: storage, strategy: strategy, cache: cache, now: now), now: now,
            bookmarkInterval: configuration.bookmarkInterval)
        endpoints.register(on: router)
        return cache
    }

    /// kube-apiserver's health endpoints: `/livez` and `/healthz` say the process serves; `/readyz` also that storage
    /// answers (etcd: a member with a leader, within the request timeout), in kube's text format.
    static func registerHealth(on router: Router<APIRequestContext>, storage: any RevisionedStorage) {
        @Sendable func text(_ status: HTTPResponse.Status, _ body: String) -> Response {
            Response(status: status, headers: [.contentType: "text/plain; charset=utf-8"], body: ResponseBody(byteBuffer: ByteBuffer(string: body)))
        }
        for path in ["/healthz", "/livez"] {
            router.get(RouterPath(path)) { _, _ in text(.ok, "ok") }
        }
        router.get("/readyz") { request, _ in
            let verbose = request.uri.queryParameters["verbose"] != nil
            do {
                try await storage.checkReady()
                return text(.ok, verbose ? "[+]ping ok\n[+]storage ok\nreadyz check passed\n" : "ok")
            } catch {
                return text(.internalServerError, "[+]ping ok\n[-]storage failed: \(error)\nreadyz check failed\n")
            }
        }
    }

    static func registerDiscovery(on router: Router<APIRequestContext>, resources: [ResourceDescriptor]) {
        let discovery = Discovery(resources: resources)
        let openAPI = OpenAPIDocuments(resources: resources)
        router.get("/version") { _, _ in APIResponse.json(Discovery.version) }
        // kubectl asks for aggregated discovery first and falls back to the per-group documents.
        @Sendable func aggregatedOr(_ request: Request, legacy: Bool, _ fallback: JSONValue) -> Response {
            guard let version = Discovery.aggregatedVersion(accept: request.headers[.accept]) else { return APIResponse.json(fallback) }
            var response = APIResponse.json(discovery.aggregated(version: version, legacy: legacy))
            response.headers[.contentType] = "application/json;g=apidiscovery.k8s.io;v=\(version);as=APIGroupDiscoveryList"
            return response
        }
        router.get("/api") { request, _ in aggregatedOr(request, legacy: true, Discovery.coreVersions) }
        router.get("/apis") { request, _ in aggregatedOr(request, legacy: false, discovery.groupList) }
        // Static routes per group and version: the router does not fall back from a static segment to a parameter.
        for group in discovery.groups {
            if let document = discovery.group(group) {
                router.get(RouterPath("/apis/\(group)")) { _, _ in APIResponse.json(document) }
            }
            var seen = Set<String>()
            for version in resources.filter({ $0.group == group }).map(\.version) where seen.insert(version).inserted {
                if let document = discovery.resourceList(group: group, version: version) {
                    router.get(RouterPath("/apis/\(group)/\(version)")) { _, _ in APIResponse.json(document) }
                }
            }
        }
        router.get("/openapi/v2") { _, _ in APIResponse.raw(openAPI.v2) }
        router.get("/openapi/v3") { _, _ in APIResponse.raw(openAPI.v3Index) }
        for (key, entry) in openAPI.v3 {
            router.get(RouterPath("/openapi/v3/\(key)")) { _, _ in
                var response = APIResponse.raw(entry.document)
                response.headers[.eTag] = "\"\(entry.hash)\""
                return response
            }
        }
    }
}
