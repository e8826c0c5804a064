/// A Backend (`core.apoxy.dev/v1alpha2`): an upstream that Envoy proxies to.
public struct Backend: APIObject, Hashable {
    public var metadata: ObjectMeta
    public var spec: BackendSpec
    public var status: BackendStatus

    /// Creates a Backend.
    public init(metadata: ObjectMeta = ObjectMeta(), spec: BackendSpec = BackendSpec(), status: BackendStatus = BackendStatus()) {
        self.metadata = metadata
        self.spec = spec
        self.status = status
    }

    public init(json: JSONValue) {
        metadata = ObjectMeta(json: json["metadata"] ?? .object([:]))
        spec = BackendSpec(json: json["spec"] ?? .object([:]))
        status = BackendStatus(json: json["status"] ?? .object([:]))
    }

    public var json: JSONValue {
        var object: JSONObject = [
            "apiVersion": .string(Self.descriptor.apiVersion), "kind": .string(Self.descriptor.kind),
            "metadata": metadata.json, "spec": spec.json,
        ]
        if !status.conditions.isEmpty || status.propagation != nil || !status.proxies.isEmpty { object["status"] = status.json }
        return .object(object)
    }
}

/// BackendSpec: where and how to connect.
public struct BackendSpec: Sendable, Hashable {
    /// List of endpoints to connect to.
    public var endpoints: [BackendEndpoint] = []
    /// `""` (HTTP/1.1), `tls`, `h2` or `h2c`; stored lower-case.
    public var `protocol`: String = ""
    /// When set, Envoy's HTTP dynamic forward proxy resolves the (single) endpoint.
    public var dynamicProxy: DynamicProxySpec?

    /// Creates a spec.
    public init(endpoints: [BackendEndpoint] = [], protocol: String = "", dynamicProxy: DynamicProxySpec? = nil) {
        self.endpoints = endpoints
        self.protocol = `protocol`
        self.dynamicProxy = dynamicProxy
    }

    init(json: JSONValue) {
        endpoints = (json["endpoints"]?.arrayValue ?? []).map(BackendEndpoint.init(json:))
        `protocol` = json["protocol"]?.stringValue ?? ""
        dynamicProxy = json["dynamicProxy"].map(DynamicProxySpec.init(json:))
    }

    var json: JSONValue {
        var m: JSONObject = ["endpoints": .array(endpoints.map(\.json)), "protocol": .string(`protocol`)]
        if let dynamicProxy { m["dynamicProxy"] = dynamicProxy.json }
        return .object(m)
    }
}

/// One endpoint: exactly one of `fqdn` or `ip`.
public struct BackendEndpoint: Sendable, Hashable {
    public var fqdn: String?
    public var ip: String?

    /// Creates an endpoint.
    public init(fqdn: String? = nil, ip: String? = nil) {
        self.fqdn = fqdn
        self.ip = ip
    }

    init(json: JSONValue) {
        fqdn = json["fqdn"]?.stringValue
        ip = json["ip"]?.stringValue
    }

    var json: JSONValue {
        var m = JSONObject()
        if let fqdn { m["fqdn"] = .string(fqdn) }
        if let ip { m["ip"] = .string(ip) }
        return .object(m)
    }

    /// The address as shown in tables: the fqdn or the ip.
    public var address: String { fqdn ?? ip ?? "" }
}

/// DynamicProxySpec: Envoy's HTTP dynamic forward proxy settings.
public struct DynamicProxySpec: Sendable, Hashable {
    public var dnsCacheConfig: DynamicProxyDnsCacheConfig?

    /// Creates a dynamic proxy spec.
    public init(dnsCacheConfig: DynamicProxyDnsCacheConfig? = nil) { self.dnsCacheConfig = dnsCacheConfig }

    init(json: JSONValue) {
        dnsCacheConfig = json["dnsCacheConfig"].map(DynamicProxyDnsCacheConfig.init(json:))
    }

    var json: JSONValue {
        var m = JSONObject()
        if let dnsCacheConfig { m["dnsCacheConfig"] = dnsCacheConfig.json }
        return .object(m)
    }
}

/// DynamicProxyDnsCacheConfig: the DNS cache of the dynamic forward proxy. Durations are Go duration strings.
public struct DynamicProxyDnsCacheConfig: Sendable, Hashable {
    public var dnsLookupFamily: String?
    public var dnsRefreshRate: String?
    public var dnsMinRefreshRate: String?
    public var hostTTL: String?
    public var maxHosts: Int64?
    public var dnsQueryTimeout: String?

    /// Creates a cache config.
    public init(
        dnsLookupFamily: String? = nil, dnsRefreshRate: String? = nil, dnsMinRefreshRate: String? = nil,
        hostTTL: String? = nil, maxHosts: Int64? = nil, dnsQueryTimeout: String? = nil
    ) {
        self.dnsLookupFamily = dnsLookupFamily
        self.dnsRefreshRate = dnsRefreshRate
        self.dnsMinRefreshRate = dnsMinRefreshRate
        self.hostTTL = hostTTL
        self.maxHosts = maxHosts
        self.dnsQueryTimeout = dnsQueryTimeout
    }

    init(json: JSONValue) {
        dnsLookupFamily = json["dnsLookupFamily"]?.stringValue
        dnsRefreshRate = json["dnsRefreshRate"]?.stringValue
        dnsMinRefreshRate = json["dnsMinRefreshRate"]?.stringValue
        hostTTL = json["hostTTL"]?.stringValue
        maxHosts = json["maxHosts"]?.integerValue
        dnsQueryTimeout = json["dnsQueryTimeout"]?.stringValue
    }

    var json: JSONValue {
        var m = JSONObject()
        if let dnsLookupFamily { m["dnsLookupFamily"] = .string(dnsLookupFamily) }
        if let dnsRefreshRate { m["dnsRefreshRate"] = .string(dnsRefreshRate) }
        if let dnsMinRefreshRate { m["dnsMinRefreshRate"] = .string(dnsMinRefreshRate) }
        if let hostTTL { m["hostTTL"] = .string(hostTTL) }
        if let maxHosts { m["maxHosts"] = .integer(maxHosts) }
        if let dnsQueryTimeout { m["dnsQueryTimeout"] = .string(dnsQueryTimeout) }
        return .object(m)
    }
}

/// BackendStatus: conditions and propagation written by the control plane.
public struct BackendStatus: Sendable, Hashable {
    public var conditions: [Condition] = []
    /// How long the last programmed generation took to reach every connected proxy.
    public var propagation: Propagation?
    /// Each backplane's own view, by its proxy name.
    public var proxies: [ProxyStatus] = []

    /// Creates a status.
    public init(conditions: [Condition] = [], propagation: Propagation? = nil, proxies: [ProxyStatus] = []) {
        self.conditions = conditions
        self.propagation = propagation
        self.proxies = proxies
    }

    init(json: JSONValue) {
        conditions = (json["conditions"]?.arrayValue ?? []).map(Condition.init(json:))
        propagation = json["propagation"].map(Propagation.init(json:))
        proxies = (json["proxies"]?.arrayValue ?? []).map(ProxyStatus.init(json:))
    }

    var json: JSONValue {
        var m: JSONObject = ["conditions": .array(conditions.map(\.json))]
        if let propagation { m["propagation"] = propagation.json }
        if !proxies.isEmpty { m["proxies"] = .array(proxies.map(\.json)) }
        return .object(m)
    }
}

/// `status.proxies[]`: one backplane's Programmed condition and propagation.
public struct ProxyStatus: Sendable, Hashable {
    public var name: String
    public var conditions: [Condition]
    public var propagation: Propagation?
    /// What this backplane's Envoy resolved and sees for each endpoint, read from its admin interface.
    public var endpoints: [ObservedEndpoint]

    /// Creates an entry.
    public init(name: String, conditions: [Condition], propagation: Propagation? = nil, endpoints: [ObservedEndpoint] = []) {
        self.name = name
        self.conditions = conditions
        self.propagation = propagation
        self.endpoints = endpoints
    }

    /// Reads an entry.
    public init(json: JSONValue) {
        name = json["name"]?.stringValue ?? ""
        conditions = (json["conditions"]?.arrayValue ?? []).map(Condition.init(json:))
        propagation = json["propagation"].map(Propagation.init(json:))
        endpoints = (json["endpoints"]?.arrayValue ?? []).map(ObservedEndpoint.init(json:))
    }

    /// The status member.
    public var json: JSONValue {
        var m: JSONObject = ["name": .string(name), "conditions": .array(conditions.map(\.json))]
        if let propagation { m["propagation"] = propagation.json }
        if !endpoints.isEmpty { m["endpoints"] = .array(endpoints.map(\.json)) }
        return .object(m)
    }
}

/// `status.proxies[].endpoints[]`: one upstream host as an Envoy sees it: the address it resolved (an FQDN endpoint
/// gives one entry per address) and its health, with Envoy's own names for the reasons it is not healthy.
public struct ObservedEndpoint: Sendable, Hashable {
    /// The Envoy cluster (`<backend>:<port>`, or the Backend's name) the host belongs to.
    public var cluster: String
    /// The IP address Envoy connects to.
    public var address: String
    public var port: Int64
    /// The endpoint's FQDN when Envoy resolved the address from it (STRICT_DNS); nil for IP endpoints.
    public var hostname: String?
    /// `Healthy`, `Degraded` or `Unhealthy`.
    public var health: String
    /// Envoy's health flags that are set (`failed_outlier_check`, `failed_active_health_check`, ...) and an EDS
    /// health status other than HEALTHY.
    public var reasons: [String]

    /// Whether Envoy sends traffic to this host as a healthy one.
    public var isHealthy: Bool { health == "Healthy" }

    /// Creates an entry.
    public init(cluster: String, address: String, port: Int64, hostname: String? = nil, health: String, reasons: [String] = []) {
        self.cluster = cluster
        self.address = address
        self.port = port
        self.hostname = hostname
        self.health = health
        self.reasons = reasons
    }

    /// Reads an entry.
    public init(json: JSONValue) {
        cluster = json["cluster"]?.stringValue ?? ""
        address = json["address"]?.stringValue ?? ""
        port = json["port"]?.integerValue ?? 0
        hostname = json["hostname"]?.stringValue
        health = json["health"]?.stringValue ?? ""
        reasons = (json["reasons"]?.arrayValue ?? []).compactMap(\.stringValue)
    }

    /// The status member.
    public var json: JSONValue {
        var m: JSONObject = [
            "cluster": .string(cluster), "address": .string(address), "port": .integer(port), "health": .string(health),
        ]
        if let hostname { m["hostname"] = .string(hostname) }
        if !reasons.isEmpty { m["reasons"] = .array(reasons.map(JSONValue.string)) }
        return .object(m)
    }
}

/// `status.propagation`: one generation's time from the control plane seeing it to the ACK of every connected proxy.
public struct Propagation: Sendable, Hashable {
    public var observedGeneration: Int64
    /// A Go-style duration (`12.5ms`).
    public var latency: String
    public var proxies: Int64

    /// Creates a record.
    public init(observedGeneration: Int64, latency: String, proxies: Int64) {
        self.observedGeneration = observedGeneration
        self.latency = latency
        self.proxies = proxies
    }

    /// Reads the status member.
    public init(json: JSONValue) {
        observedGeneration = json["observedGeneration"]?.integerValue ?? 0
        latency = json["latency"]?.stringValue ?? ""
        proxies = json["proxies"]?.integerValue ?? 0
    }

    /// The status member.
    public var json: JSONValue {
        ["observedGeneration": .integer(observedGeneration), "latency": .string(latency), "proxies": .integer(proxies)]
    }
}
