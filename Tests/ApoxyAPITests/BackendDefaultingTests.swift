import ApoxyAPI
import Testing

/// Every default the server fills into `spec.dynamicProxy.dnsCacheConfig`.
private let allCacheDefaults: JSONValue = [
    "dnsLookupFamily": "auto", "dnsRefreshRate": "1m0s", "dnsMinRefreshRate": "5s", "hostTTL": "5m0s", "maxHosts": 1024,
    "dnsQueryTimeout": "5s",
]

/// The checked `dnsCacheConfig` of a pipeline result.
private func checkedCache(_ result: BackendPipelineResult) -> JSONValue? {
    result.value["spec"]?["dynamicProxy"]?["dnsCacheConfig"]
}

@Suite("Backend defaulting")
struct BackendDefaultingTests {
    @Test("dynamicProxy {} gets every dnsCacheConfig default")
    func emptyDynamicProxy() {
        let result = runBackendPipeline(backendDocument(backendSpec(dynamicProxy: [:])))
        #expect(result.isValid, "\(result.summary)")
        #expect(checkedCache(result) == allCacheDefaults)
        #expect(
            result.object.spec.dynamicProxy
                == DynamicProxySpec(
                    dnsCacheConfig: DynamicProxyDnsCacheConfig(
                        dnsLookupFamily: "auto", dnsRefreshRate: "1m0s", dnsMinRefreshRate: "5s", hostTTL: "5m0s", maxHosts: 1024,
                        dnsQueryTimeout: "5s")))
    }

    @Test("dnsCacheConfig {} and dnsCacheConfig null get every default")
    func emptyAndNullCache() {
        for cache: JSONValue in [[:], nil] {
            let result = runBackendPipeline(dynamicProxyDocument(cache: cache))
            #expect(result.isValid, "\(result.summary)")
            #expect(checkedCache(result) == allCacheDefaults)
        }
    }

    @Test("the typed object serialises the effective values, so GET shows them")
    func typedJSONShowsDefaults() {
        let result = runBackendPipeline(backendDocument(backendSpec(dynamicProxy: [:])))
        #expect(result.object.json["spec"]?["dynamicProxy"] == ["dnsCacheConfig": allCacheDefaults])
    }

    @Test(
        "a partial dnsCacheConfig keeps the given member and fills the rest",
        arguments: [
            ("dnsLookupFamily", JSONValue.string("v4_only"), JSONValue.string("v4_only")),
            ("dnsRefreshRate", "10s", "10s"),
            ("dnsRefreshRate", "120s", "2m0s"),
            ("dnsMinRefreshRate", "2s", "2s"),
            ("hostTTL", "1h", "1h0m0s"),
            ("maxHosts", 5, 5),
            ("dnsQueryTimeout", "250ms", "250ms"),
        ])
    func partial(field: String, input: JSONValue, stored: JSONValue) {
        let result = runBackendPipeline(dynamicProxyDocument(cache: [field: input]))
        #expect(result.isValid, "\(result.summary)")
        var expected = allCacheDefaults
        expected[field] = stored
        #expect(checkedCache(result) == expected)
    }

    @Test("several given members are all kept")
    func severalGiven() {
        let result = runBackendPipeline(
            dynamicProxyDocument(cache: ["dnsLookupFamily": "all", "maxHosts": 10, "hostTTL": "30s"]))
        #expect(result.isValid, "\(result.summary)")
        #expect(
            checkedCache(result)
                == [
                    "dnsLookupFamily": "all", "dnsRefreshRate": "1m0s", "dnsMinRefreshRate": "5s", "hostTTL": "30s", "maxHosts": 10,
                    "dnsQueryTimeout": "5s",
                ])
    }

    @Test(
        "a member set to null gets its default",
        arguments: ["dnsLookupFamily", "dnsRefreshRate", "dnsMinRefreshRate", "hostTTL", "maxHosts", "dnsQueryTimeout"])
    func nullMemberDefaulted(field: String) {
        let result = runBackendPipeline(dynamicProxyDocument(cache: [field: nil]))
        #expect(result.isValid, "\(result.summary)")
        #expect(checkedCache(result) == allCacheDefaults)
    }

    @Test("an invalid member keeps its value and the others are still defaulted")
    func invalidMemberOthersDefaulted() {
        let result = runBackendPipeline(dynamicProxyDocument(cache: ["maxHosts": 0]))
        #expect(result.kinds(at: "\(cachePath).maxHosts") == [.invalid])
        var expected = allCacheDefaults
        expected["maxHosts"] = 0
        #expect(checkedCache(result) == expected)
    }

    @Test("without dynamicProxy nothing is defaulted into the spec")
    func noDynamicProxyNoDefaults() {
        let result = runBackendPipeline(backendDocument())
        #expect(result.isValid, "\(result.summary)")
        #expect(result.value["spec"] == ["endpoints": [["fqdn": "example.com"]], "protocol": ""])
        #expect(result.object.json["spec"] == ["endpoints": [["fqdn": "example.com"]], "protocol": ""])
    }

    @Test("protocol has no default: it stays required")
    func protocolNotDefaulted() {
        let result = runBackendPipeline(backendDocument(backendSpec(protocol: nil)))
        #expect(result.value["spec"]?["protocol"] == nil)
        #expect(result.has(.required, at: "spec.protocol"))
    }

    @Test("metadata and status get no defaults")
    func noMetadataOrStatusDefaults() {
        let result = runBackendPipeline(backendDocument(metadata: [:]))
        #expect(result.value["metadata"] == [:])
        #expect(result.value["status"] == nil)
    }

    @Test("the defaults are valid under the semantic rules")
    func defaultsAreValid() {
        let object = Backend(
            spec: BackendSpec(
                endpoints: [BackendEndpoint(fqdn: "example.com")], protocol: "h2",
                dynamicProxy: DynamicProxySpec(
                    dnsCacheConfig: DynamicProxyDnsCacheConfig(
                        dnsLookupFamily: "auto", dnsRefreshRate: "1m0s", dnsMinRefreshRate: "5s", hostTTL: "5m0s", maxHosts: 1024,
                        dnsQueryTimeout: "5s"))))
        #expect(object.validate().isEmpty)
    }

    @Test("defaulting is idempotent: a checked document checks to itself")
    func idempotent() {
        let first = runBackendPipeline(dynamicProxyDocument(cache: ["hostTTL": "90s"]))
        let second = runBackendPipeline(first.value)
        #expect(second.isValid, "\(second.summary)")
        #expect(second.value == first.value)
    }
}

@Suite("Backend.normalize")
struct BackendNormalizeTests {
    private func normalized(_ document: JSONValue) -> JSONValue {
        var copy = document
        Backend.normalize(&copy)
        return copy
    }

    @Test(
        "durations are rewritten in Go's canonical form",
        arguments: [
            ("60s", "1m0s"), ("1.5h", "1h30m0s"), ("300ms", "300ms"), ("1000ms", "1s"), ("90m", "1h30m0s"), ("3600s", "1h0m0s"),
            ("0.5s", "500ms"), ("+5s", "5s"), ("0", "0s"), ("-60s", "-1m0s"), ("1h0m0s", "1h0m0s"), ("500us", "500\u{00B5}s"),
            ("1\u{03BC}s", "1\u{00B5}s"), ("1ns", "1ns"), ("1m30s", "1m30s"),
        ])
    func canonicalDurations(input: String, output: String) {
        for field in ["dnsRefreshRate", "dnsMinRefreshRate", "hostTTL", "dnsQueryTimeout"] {
            let out = normalized(dynamicProxyDocument(cache: [field: .string(input)]))
            #expect(out["spec"]?["dynamicProxy"]?["dnsCacheConfig"]?[field] == .string(output), "\(field)")
        }
    }

    @Test(
        "unparseable durations and non-string members are left as sent",
        arguments: [JSONValue.string("abc"), "", "5", .integer(60), .null, .array([])])
    func leftAlone(value: JSONValue) {
        let document = dynamicProxyDocument(cache: ["hostTTL": value, "maxHosts": 7, "dnsLookupFamily": "AUTO"])
        #expect(normalized(document) == document)
    }

    @Test(
        "protocol is lower-cased; nothing else in spec changes",
        arguments: [("H2", "h2"), ("TLS", "tls"), ("HTTP3", "http3"), ("h2c", "h2c"), ("", "")])
    func protocolLowercased(input: String, output: String) {
        let document = backendDocument(backendSpec(endpoints: [["fqdn": "Example.COM"]], protocol: .string(input)))
        var expected = document
        expected["spec"]?["protocol"] = .string(output)
        #expect(normalized(document) == expected)
    }

    @Test("normalize adds nothing: no dynamicProxy, no dnsCacheConfig, no defaults")
    func addsNothing() {
        let plain = backendDocument()
        #expect(normalized(plain) == plain)
        let emptyProxy = backendDocument(backendSpec(dynamicProxy: [:]))
        #expect(normalized(emptyProxy) == emptyProxy)
    }

    @Test(
        "normalize tolerates documents of any shape",
        arguments: [
            JSONValue.null, .array([1]), .string("x"), ["spec": "x"], ["spec": ["protocol": 5]], ["spec": ["dynamicProxy": "x"]],
            ["spec": ["dynamicProxy": ["dnsCacheConfig": [1]]]], ["spec": ["dynamicProxy": ["dnsCacheConfig": nil]]],
        ])
    func anyShape(document: JSONValue) {
        #expect(normalized(document) == document)
    }

    @Test("normalize is idempotent")
    func idempotent() {
        let document = backendDocument(
            backendSpec(protocol: "TLS", dynamicProxy: ["dnsCacheConfig": ["dnsRefreshRate": "120s", "hostTTL": "1.5h"]]))
        let once = normalized(document)
        #expect(normalized(once) == once)
        #expect(once["spec"]?["protocol"] == "tls")
        #expect(once["spec"]?["dynamicProxy"]?["dnsCacheConfig"] == ["dnsRefreshRate": "2m0s", "hostTTL": "1h30m0s"])
    }
}
