extension HTTPRoute {
    /// The methods `matches[].method` accepts (Gateway API's HTTPMethod).
    public static let methods = ["GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH"]

    /// Gateway API's Hostname pattern: a lower-case DNS subdomain, optionally prefixed `*.`.
    public static let hostnamePattern = Schema.Pattern(
        "^(\\*\\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$", matches: { isHostname($0) })

    /// Gateway API's HTTPHeaderName pattern: an RFC 7230 token.
    public static let headerNamePattern = Schema.Pattern(
        "^[A-Za-z0-9!#$%&'*+\\-.^_\\x60|~]+$", matches: { isHeaderName($0) })

    /// True for a hostname matching `hostnamePattern` with labels of at most 63 characters.
    static func isHostname(_ text: String) -> Bool {
        let name = text.hasPrefix("*.") ? Substring(text.dropFirst(2)) : Substring(text)
        guard !name.isEmpty else { return false }
        return name.split(separator: ".", omittingEmptySubsequences: false).allSatisfy { label in
            label.utf8.count <= 63 && NameValidation.isDNS1123Label(label.utf8)
        }
    }

    /// True for an RFC 7230 token (`tchar`s only).
    static func isHeaderName(_ text: String) -> Bool {
        !text.isEmpty
            && text.utf8.allSatisfy { c in
                NameValidation.isAlnum(c) || Array("!#$%&'*+-.^_`|~".utf8).contains(c)
            }
    }

    /// The reason every refused Gateway API member gives.
    static func unsupported(_ member: String) -> String {
        "\(member) is not supported: this server implements a subset of Gateway API's HTTPRoute (see the published schema)"
    }

    static let pathMatchSchema = Schema.object(
        "HTTPPathMatch describes how to select a HTTP route by matching the HTTP request path.",
        [
            (
                "type",
                .string(
                    "Type specifies how to match against the path Value: PathPrefix (element-wise prefix) or Exact. Defaults to PathPrefix.",
                    enum: HTTPPathMatch.MatchType.allCases.map(\.rawValue), default: "PathPrefix")
            ),
            (
                "value",
                .string(
                    "Value of the HTTP path to match against: starts with \"/\", no whitespace. Defaults to \"/\".",
                    maxLength: 1024, default: "/")
            ),
        ],
        default: ["type": "PathPrefix", "value": "/"]
    )

    static let headerMatchSchema = Schema.object(
        "HTTPHeaderMatch describes how to select a HTTP route by matching HTTP request headers.",
        [
            (
                "type",
                .string(
                    "Type specifies how to match against the value of the header. Only Exact is supported. Defaults to Exact.",
                    enum: HTTPHeaderMatch.MatchType.allCases.map(\.rawValue), default: "Exact")
            ),
            (
                "name",
                .string(
                    "Name is the name of the HTTP Header to be matched (an RFC 7230 token; compared case-insensitively, unique within a match).",
                    pattern: headerNamePattern, minLength: 1, maxLength: 256)
            ),
            ("value", .string("Value is the value of HTTP Header to be matched.", minLength: 1, maxLength: 4096)),
        ],
        required: ["name", "value"]
    )

    static let matchSchema = Schema.object(
        "HTTPRouteMatch defines the predicate used to match requests to a given action. Every condition given must hold.",
        [
            ("path", pathMatchSchema),
            (
                "headers",
                .array(
                    "Headers specifies HTTP request header matchers. Multiple match values are ANDed together.",
                    of: headerMatchSchema, maxItems: 16)
            ),
            ("method", .string("Method specifies HTTP method matcher.", enum: methods)),
        ],
        unsupported: ["queryParams": unsupported("queryParams")]
    )

    static let backendRefSchema = Schema.object(
        "HTTPBackendRef defines how a HTTPRoute forwards a HTTP request to a Backend.",
        [
            (
                "group",
                .string("Group of the referent. Only core.apoxy.dev is supported.", enum: ["core.apoxy.dev"], default: "core.apoxy.dev")
            ),
            ("kind", .string("Kind of the referent. Only Backend is supported.", enum: ["Backend"], default: "Backend")),
            ("name", .string("Name of the referent Backend (a DNS-1123 subdomain).", minLength: 1, maxLength: 253)),
            (
                "port",
                .integer(
                    "Port of the upstream. A Backend has no port of its own: the control plane reports a missing port in status for Backends that are not dynamic proxies.",
                    format: "int32", minimum: 1, maximum: 65535)
            ),
            (
                "weight",
                .integer(
                    "Weight specifies the proportion of requests forwarded to the referenced backend (0 sends none). Defaults to 1.",
                    format: "int32", minimum: 0, maximum: 1_000_000, default: 1)
            ),
        ],
        required: ["name"],
        unsupported: ["namespace": unsupported("namespace"), "filters": unsupported("filters")]
    )

    static let ruleSchema = Schema.object(
        "HTTPRouteRule defines semantics for matching a HTTP request based on conditions (matches) and forwarding the request to Backends (backendRefs).",
        [
            (
                "matches",
                .array(
                    "Matches define conditions used for matching the rule against incoming HTTP requests; any one suffices. Defaults to a PathPrefix match on \"/\".",
                    of: matchSchema, maxItems: 8, default: [["path": ["type": "PathPrefix", "value": "/"]]])
            ),
            (
                "backendRefs",
                .array(
                    "BackendRefs defines the Backends where matching requests are sent, split by weight.", of: backendRefSchema,
                    minItems: 1, maxItems: 16)
            ),
            (
                "timeouts",
                .object(
                    "Timeouts defines the timeouts that can be configured for an HTTP request.",
                    [
                        (
                            "request",
                            .string(
                                "Request specifies the maximum duration for the gateway to respond to an HTTP request (a Go duration, at least 1ms; \"0s\" disables the timeout).",
                                format: "duration")
                        )
                    ],
                    unsupported: ["backendRequest": unsupported("backendRequest")])
            ),
        ],
        required: ["backendRefs"],
        unsupported: [
            "name": unsupported("name"), "filters": unsupported("filters"),
            "sessionPersistence": unsupported("sessionPersistence"), "retry": unsupported("retry"),
        ]
    )

    /// The structural schema of HTTPRouteSpec.
    static let specSchema = Schema.object(
        "HTTPRouteSpec defines the desired state of HTTPRoute: a documented subset of Gateway API's HTTPRouteSpec.",
        [
            (
                "hostnames",
                .array(
                    "Hostnames defines the Host header values that select this route: lower-case DNS names, optionally prefixed \"*.\"; no IP addresses, no ports. Empty matches every host.",
                    of: .string(pattern: hostnamePattern, minLength: 1, maxLength: 253), maxItems: 16)
            ),
            ("rules", .array("Rules are a list of HTTP matchers and backends.", of: ruleSchema, minItems: 1, maxItems: 16)),
        ],
        required: ["rules"],
        unsupported: ["parentRefs": unsupported("parentRefs"), "useDefaultGateways": unsupported("useDefaultGateways")]
    )

    static let parentReferenceSchema = Schema.object(
        "ParentReference identifies the parent (a Proxy) a status entry is about.",
        [
            ("group", .string("Group of the parent. Defaults to core.apoxy.dev.", maxLength: 253, default: "core.apoxy.dev")),
            ("kind", .string("Kind of the parent. Defaults to Proxy.", minLength: 1, maxLength: 63, default: "Proxy")),
            ("name", .string("Name of the parent.", minLength: 1, maxLength: 253)),
        ],
        required: ["name"]
    )

    /// The structural schema of HTTPRouteStatus.
    static let statusSchema = Schema.object(
        "HTTPRouteStatus defines the observed state of HTTPRoute.",
        [
            (
                "parents",
                .array(
                    "Parents is a list of parent resources (Proxies) that are associated with the route, and the status of the route with respect to each.",
                    of: .object(
                        "RouteParentStatus describes the status of a route with respect to an associated parent.",
                        [
                            ("parentRef", parentReferenceSchema),
                            (
                                "controllerName",
                                .string(
                                    "ControllerName is a domain-prefixed path of the controller that wrote this status (e.g. apoxy.dev/backplane).",
                                    minLength: 1, maxLength: 253)
                            ),
                            (
                                "conditions",
                                .array(
                                    "Conditions describe the status of the route with respect to the parent.", of: Condition.schema,
                                    maxItems: 8,
                                    extensions: ["x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["type"]])
                            ),
                        ],
                        required: ["parentRef", "controllerName"]),
                    maxItems: 32)
            )
        ]
    )

    /// Names, schema and flags of the HTTPRoute resource.
    public static let descriptor = ResourceDescriptor(
        group: "gateway.apoxy.dev", version: "v1", kind: "HTTPRoute", listKind: "HTTPRouteList", plural: "httproutes",
        singular: "httproute", shortNames: [],
        schema: .object(
            "HTTPRoute routes HTTP requests by host, path, headers and method to Backends.",
            [
                ("apiVersion", .string("APIVersion defines the versioned schema of this representation of an object.")),
                ("kind", .string("Kind is a string value representing the REST resource this object represents.")),
                ("metadata", ObjectMeta.schema),
                ("spec", specSchema),
                ("status", statusSchema),
            ],
            required: ["spec"],
            component: "dev.apoxy.gateway.v1.HTTPRoute"
        ),
        description: "HTTPRoute routes HTTP requests by host, path, headers and method to Backends."
    )
}
