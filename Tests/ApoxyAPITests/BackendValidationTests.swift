import ApoxyAPI
import Testing

// MARK: - The request-body pipeline, as the server runs it

/// What the server's request-body pipeline produced for one document.
struct BackendPipelineResult: Sendable {
    /// The checked document: normalised, pruned and defaulted.
    var value: JSONValue
    /// The typed object read from `value`.
    var object: Backend
    /// Type, enum, pattern, range and required violations from the schema.
    var schemaErrors: [FieldError]
    /// `backend.validate()`.
    var semanticErrors: [FieldError]
    /// `metadata.validate(at: "metadata")`.
    var metadataErrors: [FieldError]
    /// Paths of members the schema does not declare (pruned from `value`).
    var unknownFields: [String]
    /// Keys repeated within one object (only when the pipeline started from text).
    var duplicateFields: [String] = []

    /// Every error, in pipeline order.
    var errors: [FieldError] { schemaErrors + semanticErrors + metadataErrors }
    var isValid: Bool { errors.isEmpty }

    /// The errors reported at exactly `field`.
    func errors(at field: String) -> [FieldError] { errors.filter { $0.field == field } }

    /// The kinds of the errors reported at exactly `field`.
    func kinds(at field: String) -> [FieldError.Kind] { errors(at: field).map(\.kind) }

    /// True if some error at `field` has `kind`.
    func has(_ kind: FieldError.Kind, at field: String) -> Bool { kinds(at: field).contains(kind) }

    /// A readable dump for failure messages.
    var summary: String { errors.isEmpty ? "(no errors)" : errors.map(\.description).joined(separator: "\n") }
}

/// parse -> `Backend.normalize` -> `schema.check` -> `Backend(json:)` -> `validate()` + metadata validation.
func runBackendPipeline(_ document: JSONValue) -> BackendPipelineResult {
    var json = document
    Backend.normalize(&json)
    let checked = Backend.descriptor.schema.check(json)
    let object = Backend(json: checked.value)
    return BackendPipelineResult(
        value: checked.value, object: object, schemaErrors: checked.errors, semanticErrors: object.validate(),
        metadataErrors: object.metadata.validate(at: FieldPath("metadata")), unknownFields: checked.unknownFields)
}

/// The same pipeline starting from request-body text, so duplicate keys are seen too.
func runBackendPipeline(text: String) throws -> BackendPipelineResult {
    let parsed = try JSONValue.parse(Array(text.utf8))
    var result = runBackendPipeline(parsed.value)
    result.duplicateFields = parsed.duplicateFields
    return result
}

/// A spec with a valid default for every required member.
func backendSpec(
    endpoints: JSONValue = [["fqdn": "example.com"]], protocol proto: JSONValue? = "", dynamicProxy: JSONValue? = nil
) -> JSONValue {
    var members: [String: JSONValue] = ["endpoints": endpoints]
    if let proto { members["protocol"] = proto }
    if let dynamicProxy { members["dynamicProxy"] = dynamicProxy }
    return .object(members)
}

/// A whole Backend document around `spec`.
func backendDocument(
    _ spec: JSONValue = backendSpec(), metadata: JSONValue = ["name": "test"], status: JSONValue? = nil
) -> JSONValue {
    var members: [String: JSONValue] = [
        "apiVersion": "core.apoxy.dev/v1alpha2", "kind": "Backend", "metadata": metadata, "spec": spec,
    ]
    if let status { members["status"] = status }
    return .object(members)
}

/// A dynamic-proxy Backend with the given dnsCacheConfig.
func dynamicProxyDocument(cache: JSONValue) -> JSONValue {
    backendDocument(backendSpec(dynamicProxy: ["dnsCacheConfig": cache]))
}

/// A Backend document with one endpoint given as JSON.
func endpointDocument(_ endpoint: JSONValue) -> JSONValue {
    backendDocument(backendSpec(endpoints: [endpoint]))
}

let cachePath = "spec.dynamicProxy.dnsCacheConfig"

// MARK: - Baseline

@Suite("Backend pipeline: baseline")
struct BackendBaselineTests {
    @Test("a minimal valid Backend passes every stage with no errors and no unknown fields")
    func minimalValid() {
        let result = runBackendPipeline(backendDocument())
        #expect(result.isValid, "\(result.summary)")
        #expect(result.unknownFields.isEmpty)
        #expect(result.object.metadata.name == "test")
        #expect(result.object.spec.endpoints == [BackendEndpoint(fqdn: "example.com")])
        #expect(result.object.spec.protocol == "")
        #expect(result.object.spec.dynamicProxy == nil)
    }

    @Test("the text pipeline gives the same result as the value pipeline")
    func textPipeline() throws {
        let result = try runBackendPipeline(
            text:
                #"{"apiVersion":"core.apoxy.dev/v1alpha2","kind":"Backend","metadata":{"name":"b"},"spec":{"endpoints":[{"ip":"10.0.0.1"}],"protocol":"h2c"}}"#
        )
        #expect(result.isValid, "\(result.summary)")
        #expect(result.duplicateFields.isEmpty)
        #expect(result.object.spec.endpoints == [BackendEndpoint(ip: "10.0.0.1")])
        #expect(result.object.spec.protocol == "h2c")
    }

    @Test("spec is required")
    func specRequired() {
        let result = runBackendPipeline(["apiVersion": "core.apoxy.dev/v1alpha2", "kind": "Backend", "metadata": ["name": "x"]])
        #expect(result.has(.required, at: "spec"), "\(result.summary)")
    }

    @Test("a valid Backend's typed JSON round-trips through the pipeline unchanged")
    func typedRoundTrip() {
        let first = runBackendPipeline(
            backendDocument(backendSpec(endpoints: [["fqdn": "api.example.com"]], protocol: "TLS", dynamicProxy: [:])))
        #expect(first.isValid, "\(first.summary)")
        let second = runBackendPipeline(first.object.json)
        #expect(second.isValid, "\(second.summary)")
        #expect(second.object == first.object)
        #expect(second.value == first.object.json)
    }
}

// MARK: - Endpoints

@Suite("Backend validation: endpoints")
struct BackendEndpointsTests {
    @Test("endpoints missing is Required at spec.endpoints")
    func endpointsMissing() {
        let result = runBackendPipeline(backendDocument(["protocol": ""]))
        #expect(result.has(.required, at: "spec.endpoints"), "\(result.summary)")
        #expect(result.errors.allSatisfy { $0.field == "spec.endpoints" }, "\(result.summary)")
    }

    @Test("endpoints null is dropped and then Required")
    func endpointsNull() {
        let result = runBackendPipeline(backendDocument(["protocol": "", "endpoints": nil]))
        #expect(result.has(.required, at: "spec.endpoints"), "\(result.summary)")
    }

    @Test("an empty endpoints list without dynamicProxy is rejected: at least one is required")
    func emptyWithoutDynamicProxy() {
        let result = runBackendPipeline(backendDocument(backendSpec(endpoints: [])))
        #expect(result.kinds(at: "spec.endpoints") == [.required], "\(result.summary)")
        #expect(result.errors.count == 1)
        #expect(result.errors[0].description == "spec.endpoints: Required value: at least one endpoint is required")
    }

    @Test("one or more endpoints without dynamicProxy are accepted", arguments: [1, 2, 5])
    func manyWithoutDynamicProxy(count: Int) {
        let endpoints = JSONValue.array(
            (0..<count).map { i in i % 2 == 0 ? ["fqdn": .string("host\(i).example.com")] : ["ip": .string("10.0.0.\(i)")] })
        let result = runBackendPipeline(backendDocument(backendSpec(endpoints: endpoints)))
        #expect(result.isValid, "\(result.summary)")
        #expect(result.object.spec.endpoints.count == count)
    }

    @Test("exactly one endpoint with dynamicProxy is accepted")
    func oneWithDynamicProxy() {
        let result = runBackendPipeline(backendDocument(backendSpec(endpoints: [["fqdn": "example.com"]], dynamicProxy: [:])))
        #expect(result.isValid, "\(result.summary)")
        #expect(result.object.spec.dynamicProxy != nil)
    }

    @Test("with dynamicProxy, any count other than one is rejected as Invalid at spec.endpoints", arguments: [0, 2, 3])
    func wrongCountWithDynamicProxy(count: Int) {
        let endpoints = JSONValue.array((0..<count).map { i in ["fqdn": .string("h\(i).example.com")] })
        let result = runBackendPipeline(backendDocument(backendSpec(endpoints: endpoints, dynamicProxy: [:])))
        let errors = result.errors(at: "spec.endpoints")
        #expect(errors.map(\.kind) == [.invalid], "\(result.summary)")
        #expect(errors.first?.badValue == .integer(Int64(count)))
        #expect(
            errors.first?.description
                == "spec.endpoints: Invalid value: \(count): exactly one endpoint is required when dynamicProxy is set")
        #expect(result.errors.count == 1, "\(result.summary)")
    }

    @Test("an endpoint with neither fqdn nor ip is Required at its index")
    func neitherFQDNNorIP() {
        let result = runBackendPipeline(backendDocument(backendSpec(endpoints: [["fqdn": "ok.example.com"], [:]])))
        #expect(result.kinds(at: "spec.endpoints[1]") == [.required], "\(result.summary)")
        #expect(result.errors.count == 1)
        #expect(result.errors[0].description == "spec.endpoints[1]: Required value: exactly one of fqdn or ip must be set")
    }

    @Test("an endpoint with both fqdn and ip is Invalid at its index")
    func bothFQDNAndIP() {
        let result = runBackendPipeline(endpointDocument(["fqdn": "example.com", "ip": "10.0.0.1"]))
        #expect(result.kinds(at: "spec.endpoints[0]") == [.invalid], "\(result.summary)")
        #expect(result.errors.count == 1)
        #expect(result.errors[0].detail == "exactly one of fqdn or ip may be set, not both")
    }

    @Test("errors name the failing endpoint's index among several")
    func errorIndex() {
        let result = runBackendPipeline(
            backendDocument(backendSpec(endpoints: [["ip": "10.0.0.1"], ["fqdn": "a.example.com"], ["ip": "nope"]])))
        #expect(result.errors.map(\.field) == ["spec.endpoints[2].ip"], "\(result.summary)")
    }

    @Test("an endpoint whose ip is null counts as fqdn-only")
    func nullIPIsUnset() {
        let result = runBackendPipeline(endpointDocument(["fqdn": "example.com", "ip": nil]))
        #expect(result.isValid, "\(result.summary)")
        #expect(result.object.spec.endpoints == [BackendEndpoint(fqdn: "example.com")])
    }
}

// MARK: - FQDN

private let label63 = String(repeating: "a", count: 63)
private let label64 = String(repeating: "a", count: 64)
/// 63 + 1 + 63 + 1 + 63 + 1 + 61 = 253 bytes.
private let fqdn253 = [label63, label63, label63, String(repeating: "b", count: 61)].joined(separator: ".")
/// 254 bytes, every label still at most 63.
private let fqdn254 = [label63, label63, label63, String(repeating: "b", count: 62)].joined(separator: ".")

@Suite("Backend validation: endpoints[].fqdn")
struct BackendFQDNTests {
    @Test("253 and 254 byte fixtures have the intended lengths")
    func fixtureLengths() {
        #expect(fqdn253.utf8.count == 253)
        #expect(fqdn254.utf8.count == 254)
    }

    @Test(
        "valid FQDNs are accepted and stored as sent",
        arguments: [
            "example.com", "a", "localhost", "api.example.com", "a-b.c-d.io", "xn--bcher-kva.example", "0.example.com",
            "123", "my-service-1.default.svc.cluster.local", "a" + label63.dropFirst(), "\(label63).com", fqdn253,
        ])
    func accepted(fqdn: String) {
        let result = runBackendPipeline(endpointDocument(["fqdn": .string(fqdn)]))
        #expect(result.isValid, "\(result.summary)")
        #expect(result.object.spec.endpoints.first?.fqdn == fqdn)
    }

    @Test(
        "FQDNs that break the pattern are Invalid at spec.endpoints[0].fqdn",
        arguments: [
            "Example.com", "EXAMPLE.COM", "example.Com",  // uppercase
            "example.com.",  // trailing dot
            ".example.com", "a..b", ".",  // empty labels
            "-a.com", "a-.com", "a.-b.com", "a.b-.com",  // hyphen at an edge
            "a_b.com", "a b.com", "exa*mple.com", "example.com/path", "example.com:443", "b\u{00FC}cher.example",
            "\(label64).com", "a.\(label64)", label64,  // label longer than 63
            "example.com\u{0000}",
        ])
    func patternRejected(fqdn: String) {
        let result = runBackendPipeline(endpointDocument(["fqdn": .string(fqdn)]))
        #expect(result.kinds(at: "spec.endpoints[0].fqdn") == [.invalid], "\(result.summary)")
        let error = result.errors(at: "spec.endpoints[0].fqdn").first
        #expect(error?.badValue == .string(fqdn))
        #expect(error?.detail == "spec.endpoints[0].fqdn in body should match '\(Backend.fqdnPattern.regex)'")
    }

    @Test("a 254-byte FQDN is Too long (253 max)")
    func tooLong() {
        let result = runBackendPipeline(endpointDocument(["fqdn": .string(fqdn254)]))
        #expect(result.kinds(at: "spec.endpoints[0].fqdn") == [.tooLong], "\(result.summary)")
        #expect(
            result.errors(at: "spec.endpoints[0].fqdn").first?.description
                == "spec.endpoints[0].fqdn: Too long: may not be more than 253 bytes")
    }

    @Test("an empty FQDN is Invalid (at least 1 char)")
    func empty() {
        let result = runBackendPipeline(endpointDocument(["fqdn": ""]))
        #expect(result.kinds(at: "spec.endpoints[0].fqdn") == [.invalid], "\(result.summary)")
        #expect(
            result.errors(at: "spec.endpoints[0].fqdn").first?.detail == "spec.endpoints[0].fqdn in body should be at least 1 chars long")
    }

    @Test("the published pattern is the one in backend-semantics.md")
    func publishedPattern() {
        #expect(Backend.fqdnPattern.regex == #"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9]))*$"#)
    }

    /// The hand-written matcher must accept exactly what the published regex accepts (labels <= 63, length <= 253,
    /// which the regex cannot express, are kept out of this table).
    @Test(
        "the enforced FQDN check agrees with the published regex",
        arguments: [
            "example.com", "a", "ab", "a.bc", "a.b", "example.c", "x.y.z", "1.2.3.4", "www.a.io", "a-b.cd", "a.b-c",
            "A.com", "a.com.", "-a", "a-", "a..b", "a.-b", "",
        ])
    func matcherAgreesWithRegex(fqdn: String) throws {
        let regex = try Regex(Backend.fqdnPattern.regex)
        let regexAccepts = (try? regex.wholeMatch(in: fqdn)) != nil
        #expect(Backend.fqdnPattern.matches(fqdn) == regexAccepts, "regex accepts: \(regexAccepts)")
        #expect(NameValidation.isFQDN(fqdn) == regexAccepts, "regex accepts: \(regexAccepts)")
    }
}

// MARK: - IP

@Suite("Backend validation: endpoints[].ip")
struct BackendIPTests {
    @Test(
        "IPv4, IPv6 and IPv4-mapped IPv6 literals are accepted and stored as sent",
        arguments: [
            "10.9.8.7", "1.1.1.1", "127.0.0.1", "192.168.0.1", "255.255.255.255", "0.0.0.1",
            "2001:db8::ffff", "::1", "fe80::1", "2001:0db8:0000:0000:0000:ff00:0042:8329", "2001:DB8::1",
            "::ffff:192.0.2.1", "::ffff:10.0.0.1", "64:ff9b::192.0.2.33", "ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255",
            "1::",
        ])
    func accepted(ip: String) {
        let result = runBackendPipeline(endpointDocument(["ip": .string(ip)]))
        #expect(result.isValid, "\(result.summary)")
        #expect(result.object.spec.endpoints.first?.ip == ip)
    }

    @Test(
        "text that is not an IP literal is Invalid at spec.endpoints[0].ip",
        arguments: [
            "garbage", "1.2.3", "[::1]", "1.2.3.4.5", "256.1.1.1", "1.2.3.256", "01.2.3.4", "1.2.3.-4", "0x1.2.3.4",
            " 1.2.3.4", "1.2.3.4 ", "1.2.3.4/24", "fe80::1%eth0", "::ffff:1.2.3", ":::1", "1::2::3", "2001:db8:::1",
            "12345::", "g::1", "localhost", "example.com", "1.2.3.4:80", "[2001:db8::1]:443", "",
        ])
    func invalid(ip: String) {
        let result = runBackendPipeline(endpointDocument(["ip": .string(ip)]))
        #expect(result.kinds(at: "spec.endpoints[0].ip") == [.invalid], "\(result.summary)")
        let error = result.errors(at: "spec.endpoints[0].ip").first
        #expect(error?.badValue == .string(ip))
        #expect(error?.detail == "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)")
        #expect(IPAddress.parse(ip) == nil)
    }

    @Test("the unspecified address is rejected", arguments: ["0.0.0.0", "::", "0:0:0:0:0:0:0:0", "::0", "0::0"])
    func unspecified(ip: String) {
        let result = runBackendPipeline(endpointDocument(["ip": .string(ip)]))
        #expect(result.kinds(at: "spec.endpoints[0].ip") == [.invalid], "\(result.summary)")
        #expect(result.errors(at: "spec.endpoints[0].ip").first?.detail == "must not be the unspecified address (0.0.0.0 or ::)")
    }

    /// Go's `net.IP.IsUnspecified` is true for `::ffff:0.0.0.0`: it is `IPv4zero` in its 16-byte form.
    @Test("the IPv4-mapped unspecified address ::ffff:0.0.0.0 is rejected too")
    func mappedUnspecified() {
        let result = runBackendPipeline(endpointDocument(["ip": "::ffff:0.0.0.0"]))
        #expect(result.kinds(at: "spec.endpoints[0].ip") == [.invalid], "\(result.summary)")
    }

    /// JSON can carry U+0000 in a string; the address must not be validated only up to the first NUL.
    @Test("an IP followed by a NUL and more text is rejected", arguments: ["1.2.3.4\u{0000}evil", "::1\u{0000}x", "10.0.0.1\u{0000}"])
    func embeddedNUL(ip: String) {
        #expect(IPAddress.parse(ip) == nil)
        let result = runBackendPipeline(endpointDocument(["ip": .string(ip)]))
        #expect(result.kinds(at: "spec.endpoints[0].ip") == [.invalid], "\(result.summary)")
    }

    @Test("IPAddress.parse yields 4 bytes for IPv4 and 16 for IPv6")
    func parsedBytes() throws {
        let v4 = try #require(IPAddress.parse("10.9.8.7"))
        #expect(v4.bytes == [10, 9, 8, 7])
        #expect(v4.isIPv4)
        #expect(!v4.isUnspecified)
        let v6 = try #require(IPAddress.parse("2001:db8::ffff"))
        #expect(v6.bytes == [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff])
        #expect(!v6.isIPv4)
        let mapped = try #require(IPAddress.parse("::ffff:192.0.2.1"))
        #expect(mapped.bytes == [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 192, 0, 2, 1])
        #expect(try #require(IPAddress.parse("0.0.0.0")).isUnspecified)
        #expect(try #require(IPAddress.parse("::")).isUnspecified)
    }

    @Test("an ip that is not a string is a type error, not an IP error")
    func ipWrongType() {
        let result = runBackendPipeline(endpointDocument(["ip": 10]))
        #expect(result.kinds(at: "spec.endpoints[0].ip") == [.typeInvalid], "\(result.summary)")
    }
}

// MARK: - Protocol

@Suite("Backend validation: protocol")
struct BackendProtocolTests {
    @Test("the four protocols are accepted and stored as sent", arguments: ["", "tls", "h2", "h2c"])
    func accepted(proto: String) {
        let result = runBackendPipeline(backendDocument(backendSpec(protocol: .string(proto))))
        #expect(result.isValid, "\(result.summary)")
        #expect(result.value["spec"]?["protocol"] == .string(proto))
        #expect(result.object.spec.protocol == proto)
    }

    @Test(
        "protocol is case-insensitive and stored lower-case",
        arguments: [("H2", "h2"), ("TLS", "tls"), ("Tls", "tls"), ("H2C", "h2c"), ("h2C", "h2c")])
    func caseInsensitive(input: String, stored: String) {
        let result = runBackendPipeline(backendDocument(backendSpec(protocol: .string(input))))
        #expect(result.isValid, "\(result.summary)")
        #expect(result.value["spec"]?["protocol"] == .string(stored))
        #expect(result.object.spec.protocol == stored)
        #expect(result.object.json["spec"]?["protocol"] == .string(stored))
    }

    @Test(
        "other protocols are Unsupported at spec.protocol",
        arguments: ["HTTP3", "h3", "http", "https", "HTTP", "http2", "h2 ", " tls", "tcp", "udp", "grpc", "http/1.1", "tls13"])
    func rejected(proto: String) {
        let result = runBackendPipeline(backendDocument(backendSpec(protocol: .string(proto))))
        #expect(result.errors.map(\.kind) == [.notSupported], "\(result.summary)")
        #expect(result.errors.map(\.field) == ["spec.protocol"])
        #expect(result.errors.first?.detail == #"supported values: "", "tls", "h2", "h2c""#)
    }

    @Test("the Unsupported message lists every supported value in kube's format")
    func unsupportedMessage() {
        let result = runBackendPipeline(backendDocument(backendSpec(protocol: "h3")))
        #expect(result.errors.map(\.description) == [#"spec.protocol: Unsupported value: "h3": supported values: "", "tls", "h2", "h2c""#])
    }

    @Test("protocol missing is Required")
    func missing() {
        let result = runBackendPipeline(backendDocument(backendSpec(protocol: nil)))
        #expect(result.errors.map(\.kind) == [.required], "\(result.summary)")
        #expect(result.errors.first?.description == "spec.protocol: Required value")
    }

    @Test("protocol null is dropped and then Required")
    func null() {
        let result = runBackendPipeline(backendDocument(backendSpec(protocol: .null)))
        #expect(result.errors.map(\.kind) == [.required], "\(result.summary)")
        #expect(result.errors.map(\.field) == ["spec.protocol"])
    }

    @Test(
        "protocol that is not a string is a type error",
        arguments: [JSONValue.integer(2), .bool(true), .array([]), .object([:]), .double(1.5)])
    func wrongType(value: JSONValue) {
        let result = runBackendPipeline(backendDocument(backendSpec(protocol: value)))
        #expect(result.errors.map(\.kind) == [.typeInvalid], "\(result.summary)")
        #expect(result.errors.map(\.field) == ["spec.protocol"])
        #expect(
            result.errors.first?.description
                == "spec.protocol: Invalid value: \"\(value.typeName)\": spec.protocol in body must be of type string: \"\(value.typeName)\""
        )
    }
}

// MARK: - Dynamic proxy

@Suite("Backend validation: dynamicProxy")
struct BackendDynamicProxyTests {
    @Test("dynamicProxy {} is valid")
    func emptyIsValid() {
        let result = runBackendPipeline(backendDocument(backendSpec(dynamicProxy: [:])))
        #expect(result.isValid, "\(result.summary)")
        #expect(result.unknownFields.isEmpty)
    }

    @Test("each dnsLookupFamily is accepted", arguments: ["auto", "v4_only", "v6_only", "v4_preferred", "all"])
    func lookupFamilyAccepted(family: String) {
        let result = runBackendPipeline(dynamicProxyDocument(cache: ["dnsLookupFamily": .string(family)]))
        #expect(result.isValid, "\(result.summary)")
        #expect(result.object.spec.dynamicProxy?.dnsCacheConfig?.dnsLookupFamily == family)
    }

    @Test(
        "other dnsLookupFamily values are Unsupported",
        arguments: ["AUTO", "V4_ONLY", "v4", "ipv4_only", "v4only", "v6", "any", "", "auto "])
    func lookupFamilyRejected(family: String) {
        let result = runBackendPipeline(dynamicProxyDocument(cache: ["dnsLookupFamily": .string(family)]))
        let field = "\(cachePath).dnsLookupFamily"
        #expect(result.errors.map(\.kind) == [.notSupported], "\(result.summary)")
        #expect(result.errors.map(\.field) == [field])
        #expect(
            result.errors.first?.description
                == "\(field): Unsupported value: \"\(family)\": supported values: \"auto\", \"v4_only\", \"v6_only\", \"v4_preferred\", \"all\""
        )
    }

    @Test(
        "valid durations are accepted and stored in Go's canonical form",
        arguments: [
            ("dnsRefreshRate", "1ms", "1ms"), ("dnsRefreshRate", "60s", "1m0s"), ("dnsRefreshRate", "1.5h", "1h30m0s"),
            ("dnsRefreshRate", "300ms", "300ms"), ("dnsRefreshRate", "1000us", "1ms"), ("dnsRefreshRate", "+2s", "2s"),
            ("dnsMinRefreshRate", "1s", "1s"), ("dnsMinRefreshRate", "1000ms", "1s"), ("dnsMinRefreshRate", "90s", "1m30s"),
            ("hostTTL", "1ns", "1ns"), ("hostTTL", "5m", "5m0s"), ("hostTTL", "2h45m", "2h45m0s"), ("hostTTL", "3600s", "1h0m0s"),
            ("dnsQueryTimeout", "1ns", "1ns"), ("dnsQueryTimeout", "10s", "10s"), ("dnsQueryTimeout", "0.5s", "500ms"),
            ("dnsQueryTimeout", "2562047h", "2562047h0m0s"),
        ])
    func durationAccepted(field: String, input: String, stored: String) {
        let result = runBackendPipeline(dynamicProxyDocument(cache: [field: .string(input)]))
        #expect(result.isValid, "\(result.summary)")
        #expect(result.value["spec"]?["dynamicProxy"]?["dnsCacheConfig"]?[field] == .string(stored))
    }

    @Test(
        "durations below their bound or unparseable are Invalid with the reason",
        arguments: [
            ("dnsRefreshRate", "500us", "must be at least 1ms"),
            ("dnsRefreshRate", "999999ns", "must be at least 1ms"),
            ("dnsRefreshRate", "0s", "must be at least 1ms"),
            ("dnsRefreshRate", "-1m", "must be at least 1ms"),
            ("dnsMinRefreshRate", "999ms", "must be at least 1s"),
            ("dnsMinRefreshRate", "0", "must be at least 1s"),
            ("dnsMinRefreshRate", "-5s", "must be at least 1s"),
            ("hostTTL", "0s", "must be greater than 0s"),
            ("hostTTL", "0", "must be greater than 0s"),
            ("hostTTL", "-5m", "must be greater than 0s"),
            ("dnsQueryTimeout", "0s", "must be greater than 0s"),
            ("dnsQueryTimeout", "-1ns", "must be greater than 0s"),
            ("dnsRefreshRate", "abc", #"time: invalid duration "abc""#),
            ("dnsMinRefreshRate", "5", #"time: missing unit in duration "5""#),
            ("hostTTL", "5d", #"time: unknown unit "d" in duration "5d""#),
            ("hostTTL", "9999999999h", #"time: invalid duration "9999999999h""#),
            ("dnsQueryTimeout", "", #"time: invalid duration """#),
            ("dnsQueryTimeout", " 5s", #"time: invalid duration " 5s""#),
        ])
    func durationRejected(field: String, input: String, detail: String) {
        let result = runBackendPipeline(dynamicProxyDocument(cache: [field: .string(input)]))
        let path = "\(cachePath).\(field)"
        #expect(result.errors.map(\.kind) == [.invalid], "\(result.summary)")
        #expect(result.errors.map(\.field) == [path])
        #expect(result.errors.first?.detail == detail)
    }

    @Test("an unparseable duration is echoed as sent in the error")
    func unparseableEcho() {
        let result = runBackendPipeline(dynamicProxyDocument(cache: ["dnsRefreshRate": "abc"]))
        #expect(
            result.errors.map(\.description)
                == [#"spec.dynamicProxy.dnsCacheConfig.dnsRefreshRate: Invalid value: "abc": time: invalid duration "abc""#])
    }

    @Test(
        "a duration that is not a string is a type error", arguments: ["dnsRefreshRate", "dnsMinRefreshRate", "hostTTL", "dnsQueryTimeout"])
    func durationWrongType(field: String) {
        let result = runBackendPipeline(dynamicProxyDocument(cache: [field: 60]))
        #expect(result.errors.map(\.kind) == [.typeInvalid], "\(result.summary)")
        #expect(result.errors.map(\.field) == ["\(cachePath).\(field)"])
    }

    @Test("maxHosts in range is accepted", arguments: [Int64(1), 2, 1024, 65_535, 4_294_967_295])
    func maxHostsAccepted(value: Int64) {
        let result = runBackendPipeline(dynamicProxyDocument(cache: ["maxHosts": .integer(value)]))
        #expect(result.isValid, "\(result.summary)")
        #expect(result.object.spec.dynamicProxy?.dnsCacheConfig?.maxHosts == value)
    }

    @Test(
        "maxHosts out of range is Invalid with kube's bound message",
        arguments: [
            (Int64(0), "should be greater than or equal to 1"), (-1, "should be greater than or equal to 1"),
            (Int64.min, "should be greater than or equal to 1"), (4_294_967_296, "should be less than or equal to 4294967295"),
            (Int64.max, "should be less than or equal to 4294967295"),
        ])
    func maxHostsRejected(value: Int64, message: String) {
        let result = runBackendPipeline(dynamicProxyDocument(cache: ["maxHosts": .integer(value)]))
        let field = "\(cachePath).maxHosts"
        #expect(result.errors.map(\.kind) == [.invalid], "\(result.summary)")
        #expect(result.errors.map(\.field) == [field])
        #expect(result.errors.first?.description == "\(field): Invalid value: \(value): \(field) in body \(message)")
    }

    @Test("maxHosts written as an integral JSON number with a fraction or exponent is accepted as an integer")
    func maxHostsIntegralDouble() throws {
        let result = try runBackendPipeline(
            text: #"{"spec":{"endpoints":[{"fqdn":"a.io"}],"protocol":"","dynamicProxy":{"dnsCacheConfig":{"maxHosts":2.0e3}}}}"#)
        #expect(result.isValid, "\(result.summary)")
        #expect(result.value["spec"]?["dynamicProxy"]?["dnsCacheConfig"]?["maxHosts"] == .integer(2000))
    }

    @Test(
        "maxHosts that is not an integer is a type error",
        arguments: [
            (JSONValue.string("12"), "string"), (.double(1.5), "number"), (.bool(true), "boolean"), (.array([]), "array"),
            (.object([:]), "object"), (.double(1e300), "number"),
        ])
    func maxHostsWrongType(value: JSONValue, typeName: String) {
        let result = runBackendPipeline(dynamicProxyDocument(cache: ["maxHosts": value]))
        let field = "\(cachePath).maxHosts"
        #expect(result.errors.map(\.kind) == [.typeInvalid], "\(result.summary)")
        #expect(result.errors.map(\.field) == [field])
        #expect(
            result.errors.first?.description
                == "\(field): Invalid value: \"\(typeName)\": \(field) in body must be of type integer: \"\(typeName)\"")
    }

    @Test("dynamicProxy and dnsCacheConfig that are not objects are type errors at their path")
    func proxyWrongTypes() {
        let proxy = runBackendPipeline(backendDocument(backendSpec(dynamicProxy: "yes")))
        #expect(proxy.has(.typeInvalid, at: "spec.dynamicProxy"), "\(proxy.summary)")
        let cache = runBackendPipeline(dynamicProxyDocument(cache: [1, 2]))
        #expect(cache.kinds(at: cachePath) == [.typeInvalid], "\(cache.summary)")
    }

    @Test("several cache errors are all reported")
    func severalCacheErrors() {
        let result = runBackendPipeline(
            dynamicProxyDocument(cache: ["dnsLookupFamily": "v5", "maxHosts": 0, "hostTTL": "0s", "dnsRefreshRate": "1us"]))
        #expect(
            Set(result.errors.map(\.field))
                == ["\(cachePath).dnsLookupFamily", "\(cachePath).maxHosts", "\(cachePath).hostTTL", "\(cachePath).dnsRefreshRate"],
            "\(result.summary)")
    }
}

// MARK: - Wrong JSON types

@Suite("Backend validation: JSON types")
struct BackendTypeTests {
    @Test(
        "a member of the wrong JSON type is FieldValueTypeInvalid at its path",
        arguments: [
            (#"{"spec":{"endpoints":{},"protocol":""}}"#, "spec.endpoints", "object"),
            (#"{"spec":{"endpoints":"example.com","protocol":""}}"#, "spec.endpoints", "string"),
            (#"{"spec":{"endpoints":["example.com"],"protocol":""}}"#, "spec.endpoints[0]", "string"),
            (#"{"spec":{"endpoints":[null],"protocol":""}}"#, "spec.endpoints[0]", "null"),
            (#"{"spec":{"endpoints":[{"fqdn":1}],"protocol":""}}"#, "spec.endpoints[0].fqdn", "integer"),
            (#"{"spec":{"endpoints":[{"ip":[10,0,0,1]}],"protocol":""}}"#, "spec.endpoints[0].ip", "array"),
            (#"{"spec":{"endpoints":[{"fqdn":"a.io"}],"protocol":2}}"#, "spec.protocol", "integer"),
            (#"{"spec":{"endpoints":[{"fqdn":"a.io"}],"protocol":false}}"#, "spec.protocol", "boolean"),
            (#"{"spec":[]}"#, "spec", "array"),
            (#"{"spec":"x"}"#, "spec", "string"),
            (#"{"spec":{"endpoints":[{"fqdn":"a.io"}],"protocol":"","dynamicProxy":[]}}"#, "spec.dynamicProxy", "array"),
            (
                #"{"spec":{"endpoints":[{"fqdn":"a.io"}],"protocol":"","dynamicProxy":{"dnsCacheConfig":{"maxHosts":"12"}}}}"#,
                "spec.dynamicProxy.dnsCacheConfig.maxHosts", "string"
            ),
            (
                #"{"spec":{"endpoints":[{"fqdn":"a.io"}],"protocol":"","dynamicProxy":{"dnsCacheConfig":{"dnsLookupFamily":4}}}}"#,
                "spec.dynamicProxy.dnsCacheConfig.dnsLookupFamily", "integer"
            ),
            (#"{"metadata":"x","spec":{"endpoints":[{"fqdn":"a.io"}],"protocol":""}}"#, "metadata", "string"),
            (#"{"metadata":{"name":5},"spec":{"endpoints":[{"fqdn":"a.io"}],"protocol":""}}"#, "metadata.name", "integer"),
            (#"{"metadata":{"labels":[]},"spec":{"endpoints":[{"fqdn":"a.io"}],"protocol":""}}"#, "metadata.labels", "array"),
            (#"{"metadata":{"labels":{"a":1}},"spec":{"endpoints":[{"fqdn":"a.io"}],"protocol":""}}"#, "metadata.labels[a]", "integer"),
            (#"{"metadata":{"finalizers":"x"},"spec":{"endpoints":[{"fqdn":"a.io"}],"protocol":""}}"#, "metadata.finalizers", "string"),
            (#"{"metadata":{"finalizers":[1]},"spec":{"endpoints":[{"fqdn":"a.io"}],"protocol":""}}"#, "metadata.finalizers[0]", "integer"),
            (#"{"metadata":{"generation":"1"},"spec":{"endpoints":[{"fqdn":"a.io"}],"protocol":""}}"#, "metadata.generation", "string"),
            (#"{"kind":1,"spec":{"endpoints":[{"fqdn":"a.io"}],"protocol":""}}"#, "kind", "integer"),
            (#"{"status":[],"spec":{"endpoints":[{"fqdn":"a.io"}],"protocol":""}}"#, "status", "array"),
            (#"{"status":{"conditions":{}},"spec":{"endpoints":[{"fqdn":"a.io"}],"protocol":""}}"#, "status.conditions", "object"),
        ])
    func typeInvalid(text: String, field: String, typeName: String) throws {
        let result = try runBackendPipeline(text: text)
        // Semantic errors under a field the schema rejected are shadowed by the server, so only schema errors count.
        let errors = result.schemaErrors.filter { $0.field == field }
        #expect(errors.map(\.kind) == [.typeInvalid], "\(result.summary)")
        #expect(errors.first?.badValue == .string(typeName))
        #expect(result.schemaErrors.allSatisfy { $0.field == field }, "\(result.summary)")
    }

    @Test("a document that is not an object is a type error at the root")
    func rootNotObject() {
        let result = runBackendPipeline([1, 2])
        #expect(result.schemaErrors.map(\.kind) == [.typeInvalid])
        #expect(result.schemaErrors.first?.field == "")
        #expect(result.schemaErrors.first?.description == #"Invalid value: "array": body must be of type object: "array""#)
    }
}

// MARK: - Unknown and null members

@Suite("Backend pipeline: pruning")
struct BackendPruningTests {
    @Test(
        "unknown members are reported by path and pruned",
        arguments: [
            (#"{"spec":{"endpoints":[{"fqdn":"a.io"}],"protocol":"","foo":1}}"#, ["spec.foo"]),
            (#"{"spec":{"endpoints":[{"fqdn":"a.io","port":80}],"protocol":""}}"#, ["spec.endpoints[0].port"]),
            (#"{"spec":{"endpoints":[{"fqdn":"a.io"},{"ip":"10.0.0.1","weight":2}],"protocol":""}}"#, ["spec.endpoints[1].weight"]),
            (#"{"foo":{"bar":1},"spec":{"endpoints":[{"fqdn":"a.io"}],"protocol":""}}"#, ["foo"]),
            (#"{"metadata":{"name":"x","namespacee":"y"},"spec":{"endpoints":[{"fqdn":"a.io"}],"protocol":""}}"#, ["metadata.namespacee"]),
            (#"{"spec":{"endpoints":[{"fqdn":"a.io"}],"protocol":"","dynamicProxy":{"enabled":true}}}"#, ["spec.dynamicProxy.enabled"]),
            (
                #"{"spec":{"endpoints":[{"fqdn":"a.io"}],"protocol":"","dynamicProxy":{"dnsCacheConfig":{"ttl":"5s"}}}}"#,
                ["spec.dynamicProxy.dnsCacheConfig.ttl"]
            ),
            (#"{"spec":{"endpoints":[{"fqdn":"a.io"}],"protocol":""},"status":{"phase":"Ready"}}"#, ["status.phase"]),
            (
                #"{"spec":{"endpoints":[{"fqdn":"a.io","Port":1,"port":2}],"protocol":"","Protocol":"h2"}}"#,
                ["spec.Protocol", "spec.endpoints[0].Port", "spec.endpoints[0].port"]
            ),
        ])
    func unknownFields(text: String, expected: [String]) throws {
        let result = try runBackendPipeline(text: text)
        #expect(result.unknownFields.sorted() == expected.sorted())
        #expect(result.isValid, "\(result.summary)")
        // Pruned: none of the unknown names survive in the checked document.
        let serialized = result.value.jsonString
        for path in expected {
            let name = String(path.split(separator: ".").last!.split(separator: "[").first!)
            #expect(!serialized.contains("\"\(name)\""), "\(name) survived in \(serialized)")
        }
    }

    @Test("ownerReferences and managedFields are kept as sent, not pruned")
    func opaqueMembersKept() throws {
        let result = try runBackendPipeline(
            text:
                #"{"metadata":{"name":"x","ownerReferences":[{"kind":"Thing","name":"t","custom":1}],"managedFields":[{"manager":"kubectl","fieldsV1":{"f:spec":{}}}]},"spec":{"endpoints":[{"fqdn":"a.io"}],"protocol":""}}"#
        )
        #expect(result.unknownFields.isEmpty)
        #expect(result.value["metadata"]?["ownerReferences"] == [["kind": "Thing", "name": "t", "custom": 1]])
        #expect(result.value["metadata"]?["managedFields"] == [["manager": "kubectl", "fieldsV1": ["f:spec": [:]]]])
    }

    @Test("null members are dropped before validation and defaulting")
    func nullsDropped() throws {
        let result = try runBackendPipeline(
            text:
                #"{"apiVersion":"core.apoxy.dev/v1alpha2","kind":"Backend","metadata":{"name":"x","labels":null,"finalizers":null},"spec":{"endpoints":[{"fqdn":"a.io","ip":null}],"protocol":"","dynamicProxy":null},"status":null}"#
        )
        #expect(result.isValid, "\(result.summary)")
        #expect(result.value["metadata"] == ["name": "x"])
        #expect(result.value["spec"] == ["endpoints": [["fqdn": "a.io"]], "protocol": ""])
        #expect(result.value["status"] == nil)
        #expect(result.object.spec.dynamicProxy == nil)
    }

    @Test("null label values are dropped from the map")
    func nullLabelValue() throws {
        let result = try runBackendPipeline(
            text: #"{"metadata":{"name":"x","labels":{"a":"1","b":null}},"spec":{"endpoints":[{"fqdn":"a.io"}],"protocol":""}}"#)
        #expect(result.isValid, "\(result.summary)")
        #expect(result.value["metadata"]?["labels"] == ["a": "1"])
    }
}

// MARK: - Duplicate keys through the pipeline

@Suite("Backend pipeline: duplicate keys")
struct BackendDuplicateKeyTests {
    @Test("duplicate keys are reported by path and the last value wins")
    func duplicates() throws {
        let result = try runBackendPipeline(
            text: #"{"spec":{"protocol":"tls","endpoints":[{"ip":"10.0.0.1","ip":"10.0.0.2"}],"protocol":"h2"}}"#)
        #expect(result.duplicateFields.sorted() == ["spec.endpoints[0].ip", "spec.protocol"])
        #expect(result.object.spec.protocol == "h2")
        #expect(result.object.spec.endpoints == [BackendEndpoint(ip: "10.0.0.2")])
    }
}

// MARK: - Status conditions

private func condition(
    type: JSONValue? = "Accepted", status: JSONValue? = "True", reason: JSONValue? = "Translated", message: JSONValue? = "",
    lastTransitionTime: JSONValue? = "2024-05-01T10:00:00Z", observedGeneration: JSONValue? = nil
) -> JSONValue {
    var m: [String: JSONValue] = [:]
    if let type { m["type"] = type }
    if let status { m["status"] = status }
    if let reason { m["reason"] = reason }
    if let message { m["message"] = message }
    if let lastTransitionTime { m["lastTransitionTime"] = lastTransitionTime }
    if let observedGeneration { m["observedGeneration"] = observedGeneration }
    return .object(m)
}

private func statusDocument(_ conditions: [JSONValue]) -> JSONValue {
    backendDocument(status: ["conditions": .array(conditions)])
}

@Suite("Backend validation: status.conditions")
struct BackendConditionTests {
    @Test("a valid condition is accepted and read into the typed status")
    func valid() {
        let result = runBackendPipeline(
            statusDocument([condition(message: "translated to Envoy", observedGeneration: 3)]))
        #expect(result.isValid, "\(result.summary)")
        let parsed = result.object.status.conditions
        #expect(
            parsed == [
                Condition(
                    type: "Accepted", status: "True", observedGeneration: 3, lastTransitionTime: 1_714_557_600, reason: "Translated",
                    message: "translated to Envoy")
            ])
    }

    @Test("Accepted and Programmed together, with every status value, are accepted", arguments: ["True", "False", "Unknown"])
    func statusValues(status: String) {
        let result = runBackendPipeline(
            statusDocument([condition(status: .string(status)), condition(type: "Programmed", status: .string(status))]))
        #expect(result.isValid, "\(result.summary)")
        #expect(result.object.status.conditions.count == 2)
    }

    @Test("bad status values are Unsupported", arguments: ["Maybe", "true", "TRUE", "", "Yes"])
    func badStatus(status: String) {
        let result = runBackendPipeline(statusDocument([condition(status: .string(status))]))
        #expect(result.errors.map(\.kind) == [.notSupported], "\(result.summary)")
        #expect(result.errors.map(\.field) == ["status.conditions[0].status"])
        #expect(result.errors.first?.detail == #"supported values: "True", "False", "Unknown""#)
    }

    @Test(
        "reasons matching ^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$ are accepted",
        arguments: ["A", "Translated", "Some_Reason", "a,b:c", "R2", "x_"])
    func goodReason(reason: String) {
        let result = runBackendPipeline(statusDocument([condition(reason: .string(reason))]))
        #expect(result.isValid, "\(result.summary)")
    }

    @Test(
        "reasons not matching the pattern are Invalid",
        arguments: ["1Bad", "bad reason", "Bad-Reason", "Reason:", "Reason,", "_R", "Ré", "R.x"])
    func badReason(reason: String) {
        let result = runBackendPipeline(statusDocument([condition(reason: .string(reason))]))
        #expect(result.errors.map(\.kind) == [.invalid], "\(result.summary)")
        #expect(result.errors.map(\.field) == ["status.conditions[0].reason"])
        #expect(
            result.errors.first?.detail
                == "status.conditions[0].reason in body should match '^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$'")
    }

    @Test("an empty reason is Invalid (min length 1)")
    func emptyReason() {
        let result = runBackendPipeline(statusDocument([condition(reason: "")]))
        #expect(result.kinds(at: "status.conditions[0].reason") == [.invalid], "\(result.summary)")
    }

    @Test(
        "every member but observedGeneration is required",
        arguments: ["type", "status", "reason", "message", "lastTransitionTime"])
    func requiredMembers(member: String) {
        var c = condition()
        c[member] = nil
        #expect(c[member] == nil)
        let result = runBackendPipeline(statusDocument([c]))
        #expect(result.kinds(at: "status.conditions[0].\(member)").contains(.required), "\(result.summary)")
        #expect(result.schemaErrors.count == 1, "\(result.summary)")
    }

    @Test("missing lastTransitionTime is Required")
    func missingLastTransitionTime() {
        let result = runBackendPipeline(statusDocument([condition(lastTransitionTime: nil)]))
        #expect(result.errors.map(\.description) == ["status.conditions[0].lastTransitionTime: Required value"])
    }

    @Test(
        "a lastTransitionTime that is not RFC 3339 is Invalid",
        arguments: ["yesterday", "2024-13-01T00:00:00Z", "2024-05-01 10:00:00Z", "2024-05-01T10:00:00", "2023-02-29T00:00:00Z", ""])
    func badTime(time: String) {
        let result = runBackendPipeline(statusDocument([condition(lastTransitionTime: .string(time))]))
        #expect(result.kinds(at: "status.conditions[0].lastTransitionTime") == [.invalid], "\(result.summary)")
        #expect(
            result.errors(at: "status.conditions[0].lastTransitionTime").first?.detail
                == "status.conditions[0].lastTransitionTime in body must be of type date-time")
    }

    @Test("eight conditions are accepted")
    func eight() {
        let conditions = (0..<8).map { condition(type: .string("Type\($0)")) }
        let result = runBackendPipeline(statusDocument(conditions))
        #expect(result.isValid, "\(result.summary)")
        #expect(result.object.status.conditions.count == 8)
    }

    @Test("more than eight conditions are Too many")
    func tooMany() {
        let conditions = (0..<9).map { condition(type: .string("Type\($0)")) }
        let result = runBackendPipeline(statusDocument(conditions))
        #expect(result.errors.map(\.kind) == [.tooMany], "\(result.summary)")
        #expect(result.errors.first?.description == "status.conditions: Too many: must have at most 8 items")
    }

    @Test("duplicate condition types are Duplicate at the later entry")
    func duplicateTypes() {
        let result = runBackendPipeline(
            statusDocument([condition(), condition(type: "Programmed"), condition(status: "False")]))
        #expect(result.errors.map(\.kind) == [.duplicate], "\(result.summary)")
        #expect(result.errors.first?.description == #"status.conditions[2].type: Duplicate value: "Accepted""#)
    }

    @Test("condition types must be qualified names", arguments: ["not a type", "-Accepted", "a/b/c", "/Ready", "Ready/", "example.com/"])
    func badType(type: String) {
        let result = runBackendPipeline(statusDocument([condition(type: .string(type))]))
        #expect(result.kinds(at: "status.conditions[0].type").allSatisfy { $0 == .invalid }, "\(result.summary)")
        #expect(!result.errors(at: "status.conditions[0].type").isEmpty, "\(result.summary)")
    }

    @Test("condition types may carry a DNS prefix", arguments: ["example.com/Ready", "Ready", "core.apoxy.dev/Programmed", "a.b_c-d"])
    func goodType(type: String) {
        let result = runBackendPipeline(statusDocument([condition(type: .string(type))]))
        #expect(result.isValid, "\(result.summary)")
    }

    @Test("a negative observedGeneration is Invalid")
    func negativeObservedGeneration() {
        let result = runBackendPipeline(statusDocument([condition(observedGeneration: -1)]))
        #expect(result.kinds(at: "status.conditions[0].observedGeneration") == [.invalid], "\(result.summary)")
    }

    @Test("a message over 32768 bytes is Too long")
    func longMessage() {
        let ok = runBackendPipeline(statusDocument([condition(message: .string(String(repeating: "m", count: 32768)))]))
        #expect(ok.isValid, "\(ok.summary)")
        let result = runBackendPipeline(statusDocument([condition(message: .string(String(repeating: "m", count: 32769)))]))
        #expect(result.kinds(at: "status.conditions[0].message") == [.tooLong], "\(result.summary)")
    }

    @Test("unknown members of a condition are pruned")
    func unknownConditionMember() {
        var c = condition()
        c["lastHeartbeatTime"] = "2024-05-01T10:00:00Z"
        let result = runBackendPipeline(statusDocument([c]))
        #expect(result.unknownFields == ["status.conditions[0].lastHeartbeatTime"])
        #expect(result.value["status"]?["conditions"]?.arrayValue?.first?["lastHeartbeatTime"] == nil)
    }
}

// MARK: - Metadata through the pipeline

@Suite("Backend pipeline: metadata")
struct BackendMetadataPipelineTests {
    @Test("bad label keys and values, bad and duplicate finalizers are reported at metadata paths")
    func metadataErrors() {
        let result = runBackendPipeline(
            backendDocument(metadata: [
                "name": "x", "labels": ["good": "ok", "bad key": "v", "k": "bad value"],
                "finalizers": ["example.com/f", "bad finalizer!", "example.com/f"],
            ]))
        #expect(result.metadataErrors.count == 4, "\(result.summary)")
        #expect(
            result.errors(at: "metadata.labels").compactMap(\.badValue).sorted { $0.jsonString < $1.jsonString } == [
                "bad key", "bad value",
            ])
        #expect(result.kinds(at: "metadata.finalizers[1]") == [.invalid])
        #expect(result.kinds(at: "metadata.finalizers[2]") == [.duplicate])
    }

    @Test("valid labels, annotations and finalizers pass")
    func metadataValid() {
        let result = runBackendPipeline(
            backendDocument(metadata: [
                "name": "x", "labels": ["app.kubernetes.io/name": "web", "tier": ""],
                "annotations": ["example.com/note": "anything at all: {}"], "finalizers": ["core.apoxy.dev/cleanup"],
            ]))
        #expect(result.isValid, "\(result.summary)")
        #expect(result.object.metadata.labels == ["app.kubernetes.io/name": "web", "tier": ""])
        #expect(result.object.metadata.finalizers == ["core.apoxy.dev/cleanup"])
    }
}
