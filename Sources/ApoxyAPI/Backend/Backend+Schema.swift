extension Backend {
    /// Supported `spec.protocol` values (after lower-casing).
    public static let protocols = ["", "tls", "h2", "h2c"]
    /// Supported `dnsLookupFamily` values.
    public static let dnsLookupFamilies = ["auto", "v4_only", "v6_only", "v4_preferred", "all"]

    /// The FQDN pattern of `spec.endpoints[].fqdn`.
    public static let fqdnPattern = Schema.Pattern(
        "^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9]))*$", matches: { NameValidation.isFQDN($0) })

    static func duration(_ description: String, default value: String) -> Schema {
        .string(description, format: "duration", default: .string(value))
    }

    /// The structural schema of DynamicProxyDnsCacheConfig, with the seed's descriptions and the defaults the server fills in.
    static let dnsCacheConfigSchema = Schema.object(
        "DNS cache settings of the dynamic forward proxy. Every unset field gets its default.",
        [
            (
                "dnsLookupFamily",
                .string(
                    "Specifies the DNS lookup family to use for the dynamic proxy. Default is \"auto\".",
                    enum: dnsLookupFamilies, default: "auto")
            ),
            (
                "dnsRefreshRate",
                duration(
                    "Specifies the refresh rate for unresolved DNS hosts. Once a host is resolved, the TTL from the DNS response is used. If the TTL is not present, the resolved host is cached for 60s by default. Must be at least 1ms, and defaults to 60s.",
                    default: "1m0s")
            ),
            (
                "dnsMinRefreshRate",
                duration(
                    "Specifies the minimum refresh rate for DNS hosts. If a host is resolved and the TTL is less than this value, the host will be refreshed at this rate. Default is 5s and must be at least 1s.",
                    default: "5s")
            ),
            (
                "hostTTL",
                duration(
                    "TTL for unused hosts. Hosts that have not been used for this duration will be removed from the cache. Default is 5m.",
                    default: "5m0s")
            ),
            ("maxHosts", .integer("Maximum number of hosts to cache. Default is 1024.", minimum: 1, maximum: 4_294_967_295, default: 1024)),
            ("dnsQueryTimeout", duration("Specifies the timeout for DNS queries. Default is 5s.", default: "5s")),
        ]
    )

    /// The structural schema of BackendSpec.
    static let specSchema = Schema.object(
        "BackendSpec defines the desired state of Backend.",
        [
            (
                "dynamicProxy",
                .object(
                    "Specifies whether the backend should be dynamically proxied. If specified, Envoy's HTTP Dynamic Forward Proxy will be used to proxy requests to the backend. See: https://www.envoyproxy.io/docs/envoy/latest/intro/arch_overview/http/http_proxy#arch-overview-http-dynamic-forward-proxy",
                    [
                        (
                            "dnsCacheConfig",
                            Schema(
                                kind: .object, description: dnsCacheConfigSchema.description, properties: dnsCacheConfigSchema.properties,
                                defaultValue: .object([:]))
                        )
                    ])
            ),
            (
                "endpoints",
                .array(
                    "List of endpoints to connect to.",
                    of: .object(
                        "BackendEndpoint is a single endpoint: exactly one of fqdn or ip.",
                        [
                            (
                                "fqdn",
                                .string(
                                    "Fully qualified domain name of the endpoint (lower case, no trailing dot).", pattern: fqdnPattern,
                                    minLength: 1, maxLength: 253)
                            ),
                            ("ip", .string("IPv4 or IPv6 address of the endpoint (not the unspecified address).")),
                        ]))
            ),
            (
                "protocol",
                .string(
                    "Protocol defines a protocol to use for the backend. \"\" is HTTP/1.1 in cleartext, \"tls\" HTTP/1.1 over TLS, \"h2\" HTTP/2 over TLS, \"h2c\" HTTP/2 in cleartext. Input is case-insensitive.",
                    enum: protocols)
            ),
        ],
        required: ["endpoints", "protocol"]
    )

    /// The structural schema of BackendStatus.
    static let statusSchema = Schema.object(
        "BackendStatus defines the observed state of Backend.",
        [
            (
                "conditions",
                .array(
                    "Conditions written by the control plane: Accepted and Programmed.", of: Condition.schema, maxItems: 8,
                    extensions: ["x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["type"]])
            ),
            ("propagation", propagationSchema),
            (
                "proxies",
                .array(
                    "One entry per backplane (its --proxy-name), written only by that backplane: its own Programmed condition and propagation. The top-level Programmed is True only when every entry is.",
                    of: .object(
                        "The view of one backplane and the Envoys connected to it.",
                        [
                            ("name", .string("The backplane's proxy name.", maxLength: 253)),
                            (
                                "conditions",
                                .array(
                                    "Programmed, as this backplane's proxies see it.", of: Condition.schema, maxItems: 8,
                                    extensions: ["x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["type"]])
                            ),
                            ("propagation", propagationSchema),
                            (
                                "endpoints",
                                .array(
                                    "Each upstream host as this backplane's Envoy sees it (read from its admin interface, written when it changes): the address it connects to, the FQDN it resolved that from, and its health.",
                                    of: observedEndpointSchema, maxItems: 1024)
                            ),
                        ],
                        required: ["name"]),
                    maxItems: 64, extensions: ["x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["name"]])
            ),
        ]
    )

    /// The structural schema of `status.proxies[].endpoints[]`.
    static let observedEndpointSchema = Schema.object(
        "One upstream host of this Backend in one Envoy.",
        [
            ("cluster", .string("The Envoy cluster the host belongs to.", maxLength: 512)),
            ("address", .string("The IP address Envoy connects to.", maxLength: 64)),
            ("port", .integer("The port Envoy connects to.", minimum: 0, maximum: 65535)),
            ("hostname", .string("The endpoint's FQDN, when Envoy resolved the address from it.", maxLength: 253)),
            ("health", .string("Healthy, Degraded or Unhealthy, as Envoy sees the host.", maxLength: 32)),
            (
                "reasons",
                .array(
                    "Envoy's health flags that are set (failed_outlier_check, failed_active_health_check, ...) and an EDS health status other than HEALTHY.",
                    of: .string("An Envoy health flag.", maxLength: 64), maxItems: 16)
            ),
        ])

    /// The structural schema of `status.propagation`.
    static let propagationSchema = Schema.object(
        "How long the last programmed generation took to reach traffic: from the control plane seeing the write to the ACK of every connected proxy.",
        [
            ("observedGeneration", .integer("The generation measured.", minimum: 0)),
            (
                "latency",
                .string(
                    "The time from the control plane seeing that generation to the last connected proxy's ACK, as a duration (12.5ms).",
                    maxLength: 64)
            ),
            ("proxies", .integer("How many proxies acknowledged it.", minimum: 0)),
        ])

    /// Names, schema and flags of the Backend resource.
    public static let descriptor = ResourceDescriptor(
        group: "core.apoxy.dev", version: "v1alpha2", kind: "Backend", listKind: "BackendList", plural: "backends",
        singular: "backend", shortNames: ["be"],
        schema: .object(
            "Backend configures a backend (upstream) endpoint for Envoy.",
            [
                ("apiVersion", .string("APIVersion defines the versioned schema of this representation of an object.")),
                ("kind", .string("Kind is a string value representing the REST resource this object represents.")),
                ("metadata", ObjectMeta.schema),
                ("spec", specSchema),
                ("status", statusSchema),
            ],
            required: ["spec"],
            component: "dev.apoxy.core.v1alpha2.Backend"
        ),
        description: "Backend configures a backend (upstream) endpoint for Envoy."
    )
}
