public import ApoxyAPI

/// A route as the translator reads it: the routing part of an HTTPRoute, free of API machinery.
public struct RouteSource: Sendable, Hashable {
    /// One match of a rule; all of its parts must hold.
    public struct Match: Sendable, Hashable {
        /// How `path` compares with the request path.
        public enum PathType: String, Sendable, Hashable {
            case pathPrefix = "PathPrefix"
            case exact = "Exact"
        }
        public var pathType: PathType
        public var path: String
        /// Exact header matches, (name, value).
        public var headers: [Header]
        /// An HTTP method, or nil for any.
        public var method: String?

        /// A header that must be present with exactly this value.
        public struct Header: Sendable, Hashable {
            public var name: String
            public var value: String
            /// Creates a header match.
            public init(name: String, value: String) {
                self.name = name
                self.value = value
            }
        }

        /// Creates a match; the default matches every request.
        public init(pathType: PathType = .pathPrefix, path: String = "/", headers: [Header] = [], method: String? = nil) {
            self.pathType = pathType
            self.path = path
            self.headers = headers
            self.method = method
        }
    }

    /// A reference to a Backend, with the port to use and the share of traffic.
    public struct BackendRef: Sendable, Hashable {
        public var name: String
        public var port: Int?
        public var weight: Int
        /// Creates a reference.
        public init(name: String, port: Int? = nil, weight: Int = 1) {
            self.name = name
            self.port = port
            self.weight = weight
        }
    }

    /// Requests matching any of `matches` go to `backendRefs`, split by weight.
    public struct Rule: Sendable, Hashable {
        public var matches: [Match]
        public var backendRefs: [BackendRef]
        /// The request timeout; zero disables Envoy's default of 15 s.
        public var requestTimeout: GoDuration?
        /// Creates a rule.
        public init(matches: [Match] = [Match()], backendRefs: [BackendRef], requestTimeout: GoDuration? = nil) {
            self.matches = matches.isEmpty ? [Match()] : matches
            self.backendRefs = backendRefs
            self.requestTimeout = requestTimeout
        }
    }

    public var name: String
    public var generation: Int64
    /// Host names the route answers for; empty means every host.
    public var hostnames: [String]
    public var rules: [Rule]

    /// Creates a route source.
    public init(name: String, generation: Int64 = 1, hostnames: [String] = [], rules: [Rule]) {
        self.name = name
        self.generation = generation
        self.hostnames = hostnames
        self.rules = rules
    }
}
