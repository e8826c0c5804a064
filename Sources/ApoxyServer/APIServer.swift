public import ApoxyAPI
public import ApoxyMetrics
import ApoxyRegistry
public import ApoxyStorage
import Foundation
import HTTPTypes
public import Hummingbird
import HummingbirdCore
import HummingbirdHTTP2
public import Logging
import NIOCore
import Prometheus
public import ServiceLifecycle

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
    /// TLS with HTTP/2 by ALPN (HTTP/1.1 fallback); nil serves plain HTTP/1.1.
    public var tls: ServingTLS?
    /// Who may call: authenticators and whether anonymous requests are served.
    public var authentication: AuthenticationConfiguration
    /// What they may do.
    public var authorizationMode: AuthorizationMode
    /// Where every request is recorded, if anywhere.
    public var auditLog: AuditLog?
    /// The roles and bindings RBAC knows without storing them (kube's bootstrap policy, plus e.g. the control
    /// plane's grant in `apoxy dev`).
    public var builtInPolicy: BuiltInPolicy = .kube
    /// Requests and connections this server takes on at once, and for how long.
    public var limits = ServerLimits()
    /// Where request, watch and storage metrics go, served at `/metrics`; nil turns metrics off (404).
    public var metrics: MetricsRegistry?
    /// One `HTTP` line per request at `.info` (kube's httplog).
    public var accessLog = true
    /// How long an Event is kept after it was last seen (kube's `--event-ttl`).
    public var eventTTL: Duration = .seconds(3600)

    /// Creates a configuration.
    public init(
        host: String = "127.0.0.1", port: Int = 8080, bookmarkInterval: Duration = .seconds(30), tls: ServingTLS? = nil,
        authentication: AuthenticationConfiguration = AuthenticationConfiguration(), authorizationMode: AuthorizationMode = .alwaysAllow,
        auditLog: AuditLog? = nil
    ) {
        self.host = host
        self.port = port
        self.bookmarkInterval = bookmarkInterval
        self.tls = tls
        self.authentication = authentication
        self.authorizationMode = authorizationMode
        self.auditLog = auditLog
    }
}

/// The Kubernetes-style API server for Apoxy resources, as a Hummingbird application (a swift-service-lifecycle
/// `Service`).
public enum APIServer {
    /// The strategies of the served resources, in discovery order: serving another resource means adding its
    /// strategy here (its type carries the descriptor and schema); every verb comes from the generic endpoints.
    static let strategies: [any ResourceStrategy] = [BackendStrategy(), HTTPRouteStrategy()]

    /// The resources this server serves: the strategies', RBAC's, and the core Events and Namespaces.
    public static var resources: [ResourceDescriptor] {
        strategies.map(\.descriptor) + [
            ClusterRoleStrategy().descriptor, ClusterRoleBindingStrategy().descriptor, EventStrategy().descriptor,
            NamespaceStrategy().descriptor, EventV1Strategy().descriptor,
        ]
    }

    /// Builds the application over `storage`. `onListening` receives the bound port once the server accepts
    /// connections. Throws when the TLS files cannot be loaded.
    public static func application(
        storage: any RevisionedStorage, configuration: APIServerConfiguration, logger: Logger,
        services: [any Service] = [],
        onListening: @escaping @Sendable (Int) async -> Void = { _ in }
    ) throws -> some ApplicationProtocol {
        let now: @Sendable () -> Int64 = { Int64(Date().timeIntervalSince1970) }
        let router = Router(context: APIRequestContext.self)
        // RBAC follows its two resources' caches, so those exist before the middleware that asks it.
        let roles = cache(for: ClusterRoleStrategy(), storage: storage, configuration: configuration, logger: logger)
        let bindings = cache(for: ClusterRoleBindingStrategy(), storage: storage, configuration: configuration, logger: logger)
        var caches: [any Service] = [roles, bindings]
        let authorizer: any Authorizer
        switch configuration.authorizationMode {
        case .alwaysAllow:
            authorizer = AlwaysAllowAuthorizer()
        case .rbac:
            let rbac = RBACAuthorizer(roles: roles, bindings: bindings, builtIn: configuration.builtInPolicy, logger: logger)
            caches.append(rbac)
            authorizer = rbac
        }
        let metrics = configuration.metrics.map(APIMetrics.init(registry:))
        // Middleware applies to the routes registered after it. Metrics and the access log outermost, then audit
        // (both record 401s and 403s too), then errors to Status, then who is calling, then what they may do.
        router.middlewares.add(RequestTelemetryMiddleware(metrics: metrics, logger: logger, accessLog: configuration.accessLog))
        if let auditLog = configuration.auditLog { router.middlewares.add(AuditMiddleware(log: auditLog)) }
        router.middlewares.add(YAMLResponseMiddleware())
        router.middlewares.add(StatusErrorMiddleware(logger: logger))
        // Overload is refused before any work, authentication included.
        let inflight = RequestLimitMiddleware<APIRequestContext>.Counters()
        router.middlewares.add(RequestLimitMiddleware(limits: configuration.limits, counters: inflight, logger: logger))
        router.middlewares.add(AuthenticationMiddleware(configuration: configuration.authentication))
        router.middlewares.add(AuthorizationMiddleware(authorizer: authorizer))
        for strategy in strategies {
            caches.append(
                serveService(
                    strategy, storage: storage, router: router, configuration: configuration, metrics: metrics, logger: logger, now: now))
        }
        register(
            ClusterRoleStrategy(), cache: roles, storage: storage, router: router, configuration: configuration, metrics: metrics,
            logger: logger, now: now)
        register(
            ClusterRoleBindingStrategy(), cache: bindings, storage: storage, router: router, configuration: configuration, metrics: metrics,
            logger: logger, now: now)
        // Namespaces are a fixed, read-only set (`default`), served from memory so they cost user storage no revision
        // and every replica has them from its first request; Events may be created only in one of them, and expire.
        let namespaceStorage = Self.namespaceStorage(now: now())
        let namespaceCache = cache(for: NamespaceStrategy(), storage: namespaceStorage, configuration: configuration, logger: logger)
        let namespaces = register(
            NamespaceStrategy(), cache: namespaceCache, storage: namespaceStorage, router: router, configuration: configuration,
            metrics: metrics, logger: logger, now: now)
        let namespaceExists: @Sendable (String) async -> Bool = { namespace in (try? await namespaces.get(name: namespace)) != nil }
        let eventCache = cache(for: EventStrategy(), storage: storage, configuration: configuration, logger: logger)
        let events = register(
            EventStrategy(), cache: eventCache, storage: storage, router: router, configuration: configuration, metrics: metrics,
            logger: logger, now: now, namespaceExists: namespaceExists)
        let eventV1Cache = cache(for: EventV1Strategy(), storage: storage, configuration: configuration, logger: logger)
        register(
            EventV1Strategy(), cache: eventV1Cache, storage: storage, router: router, configuration: configuration, metrics: metrics,
            logger: logger, now: now, namespaceExists: namespaceExists)
        caches += [
            namespaceCache, eventCache, eventV1Cache, EventExpiry(store: events, ttl: configuration.eventTTL, logger: logger, now: now),
        ]
        if let metrics {
            registerMetrics(on: router, metrics: metrics, inflight: inflight)
        }
        Reviews(authorizer: authorizer).register(on: router)
        registerDiscovery(on: router, resources: resources)
        registerHealth(on: router, storage: storage)
        let server: HTTPServerBuilder
        if let tls = configuration.tls {
            // h2 streams end with the client's RST_STREAM, so they need no CloseOnInputClosedHandler; a watch on
            // the HTTP/1.1 fallback notices a closed connection on its next tick.
            server = try .http2Upgrade(tlsConfiguration: try tls.tlsConfiguration())
        } else {
            let limits = configuration.limits
            var http1 = HTTP1Channel.Configuration(
                additionalChannelHandlers: [CloseOnInputClosedHandler(), ReadHeaderTimeoutHandler(timeout: limits.readHeaderTimeout)],
                idleTimeout: .nanoseconds(Int64(limits.idleTimeout.components.seconds) * 1_000_000_000))
            http1.httpDecoder = .init(maxHeaderFieldSize: limits.maxHeaderBytes, maxHeaderListSize: limits.maxHeaderBytes)
            server = .http1(configuration: http1)
        }
        return Application(
            router: router,
            server: server,
            configuration: ApplicationConfiguration(address: .hostname(configuration.host, port: configuration.port), serverName: nil),
            services: caches + services,
            onServerRunning: { channel in await onListening(channel.localAddress?.port ?? configuration.port) },
            logger: logger)
    }

    /// Registers every verb of one resource on `router`, over a store fed by its own watch cache; returns the
    /// cache, a service the application must run.
    static func serve<Strategy: ResourceStrategy>(
        _ strategy: Strategy, storage: any RevisionedStorage, router: Router<APIRequestContext>,
        configuration: APIServerConfiguration, metrics: APIMetrics?, logger: Logger, now: @escaping @Sendable () -> Int64
    ) -> WatchCache<Strategy.Object> {
        let cache = cache(for: strategy, storage: storage, configuration: configuration, logger: logger)
        register(
            strategy, cache: cache, storage: storage, router: router, configuration: configuration, metrics: metrics, logger: logger,
            now: now)
        return cache
    }

    /// `serve` for a strategy known only as `any ResourceStrategy`.
    static func serveService<Strategy: ResourceStrategy>(
        _ strategy: Strategy, storage: any RevisionedStorage, router: Router<APIRequestContext>,
        configuration: APIServerConfiguration, metrics: APIMetrics?, logger: Logger, now: @escaping @Sendable () -> Int64
    ) -> any Service {
        serve(strategy, storage: storage, router: router, configuration: configuration, metrics: metrics, logger: logger, now: now)
    }

    /// The watch cache of one resource.
    static func cache<Strategy: ResourceStrategy>(
        for strategy: Strategy, storage: any RevisionedStorage, configuration: APIServerConfiguration, logger: Logger
    ) -> WatchCache<Strategy.Object> {
        var convert: (@Sendable (inout JSONValue) -> Void)?
        if Strategy.Object.descriptor.storedAs != nil {
            convert = { json in strategy.fromStorage(&json) }
        }
        return WatchCache<Strategy.Object>(
            storage: storage, keyPrefix: ResourceStore<Strategy>.keyPrefix,
            selectableFields: ResourceStore<Strategy>.selectableFields(strategy),
            tickInterval: min(configuration.bookmarkInterval, .seconds(1)), logger: logger, convert: convert)
    }

    /// The namespaces this server serves (`default`, where Events about cluster-scoped objects go), in memory.
    static func namespaceStorage(now: Int64) -> MemoryStorage {
        var metadata = ObjectMeta(name: Namespace.default)
        metadata.uid = UUID().uuidString.lowercased()
        metadata.creationTimestamp = now
        metadata.labels = ["kubernetes.io/metadata.name": Namespace.default]
        return MemoryStorage(initial: [
            (ResourceStore<NamespaceStrategy>.keyPrefix + Namespace.default, Namespace(metadata: metadata).json.serialized())
        ])
    }

    /// Registers every verb of one resource on `router`, over a store fed by `cache`; returns the store.
    @discardableResult
    static func register<Strategy: ResourceStrategy>(
        _ strategy: Strategy, cache: WatchCache<Strategy.Object>, storage: any RevisionedStorage, router: Router<APIRequestContext>,
        configuration: APIServerConfiguration, metrics: APIMetrics?, logger: Logger, now: @escaping @Sendable () -> Int64,
        namespaceExists: (@Sendable (String) async -> Bool)? = nil
    ) -> ResourceStore<Strategy> {
        let descriptor = Strategy.Object.descriptor
        let store = ResourceStore(storage: storage, strategy: strategy, cache: cache, now: now, namespaceExists: namespaceExists)
        let endpoints = ResourceEndpoints(
            store: store, now: now,
            bookmarkInterval: configuration.bookmarkInterval,
            watchMetrics: metrics.map { .init(watchers: $0.registeredWatchers(descriptor), events: $0.watchEvents(descriptor)) },
            logger: logger)
        endpoints.register(on: router)
        if let metrics {
            // kube names the resource `<plural>.<group>`, and a core one by its plural alone (`events`).
            let objects = metrics.storageObjects(descriptor.groupResource.description)
            metrics.registry.beforeScrape { objects.set(Int64(cache.objectCount)) }
        }
        return store
    }

    /// `/metrics` in Prometheus' text format: kube-apiserver's request metrics, storage and whatever else shares the
    /// registry (the control plane's in `apoxy dev`).
    static func registerMetrics(
        on router: Router<APIRequestContext>, metrics: APIMetrics, inflight: RequestLimitMiddleware<APIRequestContext>.Counters
    ) {
        let readOnly = metrics.inflight("readOnly")
        let mutating = metrics.inflight("mutating")
        metrics.registry.beforeScrape {
            // The scrape itself is a read in flight; kube's gauge counts it as well.
            readOnly.set(Int64(inflight.current(.readOnly)))
            mutating.set(Int64(inflight.current(.mutating)))
        }
        router.get("/metrics") { _, _ in
            let body = await metrics.registry.exposition()
            return Response(
                status: .ok, headers: [.contentType: MetricsRegistry.contentType], body: ResponseBody(byteBuffer: ByteBuffer(bytes: body)))
        }
    }

    /// kube-apiserver's health endpoints: `/livez` and `/healthz` say the process serves; `/readyz` also that storage
    /// answers (etcd: a member with a leader, within the request timeout), in kube's text format.
    static func registerHealth(on router: Router<APIRequestContext>, storage: any RevisionedStorage) {
        @Sendable func text(_ status: HTTPResponse.Status, _ body: String) -> Response {
            Response(
                status: status, headers: [.contentType: "text/plain; charset=utf-8"],
                body: ResponseBody(byteBuffer: ByteBuffer(string: body)))
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
        let discovery = Discovery(resources: resources + [Reviews.accessReview, Reviews.subjectReview])
        let openAPI = OpenAPIDocuments(resources: resources)
        router.get("/version") { _, _ in APIResponse.json(Discovery.version) }
        // kubectl asks for aggregated discovery first and falls back to the per-group documents.
        @Sendable func aggregatedOr(_ request: Request, legacy: Bool, _ fallback: JSONValue) -> Response {
            guard let version = Discovery.aggregatedVersion(accept: request.headers[.accept]) else { return APIResponse.json(fallback) }
            var response = APIResponse.json(discovery.aggregated(version: version, legacy: legacy))
            response.headers[.contentType] = "application/json;g=apidiscovery.k8s.io;v=\(version);as=APIGroupDiscoveryList"
            return response
        }
        router.get("/api") { request, _ in aggregatedOr(request, legacy: true, discovery.coreVersions) }
        if let core = discovery.resourceList(group: "", version: "v1") {
            router.get("/api/v1") { _, _ in APIResponse.json(core) }
        }
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
