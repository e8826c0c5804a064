import ApoxyAPI
import Testing

// MARK: - The request-body pipeline, as the server runs it for HTTPRoutes

/// What the server's request-body pipeline produced for one HTTPRoute document.
struct RoutePipelineResult: Sendable {
    var value: JSONValue
    var object: HTTPRoute
    var schemaErrors: [FieldError]
    var semanticErrors: [FieldError]
    var metadataErrors: [FieldError]
    var unknownFields: [String]

    var errors: [FieldError] { schemaErrors + semanticErrors + metadataErrors }
    var isValid: Bool { errors.isEmpty }

    /// The kinds of the errors reported at exactly `field`.
    func kinds(at field: String) -> [FieldError.Kind] { errors.filter { $0.field == field }.map(\.kind) }

    /// True if some error at `field` has `kind`.
    func has(_ kind: FieldError.Kind, at field: String) -> Bool { kinds(at: field).contains(kind) }

    /// A readable dump for failure messages.
    var summary: String { errors.isEmpty ? "(no errors)" : errors.map(\.description).joined(separator: "\n") }
}

/// `HTTPRoute.normalize` -> `schema.check` -> `HTTPRoute(json:)` -> `validate()` + metadata validation.
func runRoutePipeline(_ document: JSONValue) -> RoutePipelineResult {
    var json = document
    HTTPRoute.normalize(&json)
    let checked = HTTPRoute.descriptor.schema.check(json)
    let object = HTTPRoute(json: checked.value)
    return RoutePipelineResult(
        value: checked.value, object: object, schemaErrors: checked.errors, semanticErrors: object.validate(),
        metadataErrors: object.metadata.validate(at: FieldPath("metadata")), unknownFields: checked.unknownFields)
}

/// A backendRef to `web` with the given extra members.
func routeBackendRef(_ extra: [String: JSONValue] = [:]) -> JSONValue {
    var m: [String: JSONValue] = ["name": "web", "port": 8080]
    for (k, v) in extra { m[k] = v }
    return .object(m)
}

/// A rule with one backendRef and the given extra members.
func routeRule(_ extra: [String: JSONValue] = [:]) -> JSONValue {
    var m: [String: JSONValue] = ["backendRefs": [routeBackendRef()]]
    for (k, v) in extra { m[k] = v }
    return .object(m)
}

/// A rule whose single match is `match`.
func routeRule(match: JSONValue) -> JSONValue { routeRule(["matches": [match]]) }

/// A whole HTTPRoute document.
func routeDocument(
    rules: JSONValue = [routeRule()], hostnames: JSONValue? = nil, extraSpec: [String: JSONValue] = [:], status: JSONValue? = nil
) -> JSONValue {
    var spec: [String: JSONValue] = ["rules": rules]
    if let hostnames { spec["hostnames"] = hostnames }
    for (k, v) in extraSpec { spec[k] = v }
    var m: [String: JSONValue] = [
        "apiVersion": "gateway.apoxy.dev/v1", "kind": "HTTPRoute", "metadata": ["name": "route"], "spec": .object(spec),
    ]
    if let status { m["status"] = status }
    return .object(m)
}

/// A status with one parent entry carrying `conditions`.
func routeStatus(
    conditions: [JSONValue] = [], parentRef: JSONValue = ["name": "proxy-1"], controllerName: JSONValue = "apoxy.dev/backplane"
) -> JSONValue {
    ["parents": [["parentRef": parentRef, "controllerName": controllerName, "conditions": .array(conditions)]]]
}

func routeCondition(_ type: String, status: String = "True") -> JSONValue {
    ["type": .string(type), "status": .string(status), "reason": "Ok", "message": "", "lastTransitionTime": "2026-01-02T03:04:05Z"]
}

let rule0 = "spec.rules[0]"
let match0 = "spec.rules[0].matches[0]"
let ref0 = "spec.rules[0].backendRefs[0]"

// MARK: - Baseline and defaults

@Suite("HTTPRoute pipeline: baseline and defaults")
struct HTTPRouteDefaultingTests {
    @Test("a minimal route is valid and gets every default, visible in its JSON")
    func minimal() {
        let result = runRoutePipeline(routeDocument())
        #expect(result.isValid, "\(result.summary)")
        #expect(result.unknownFields.isEmpty)
        let rule = result.value["spec"]?["rules"]?[0]
        #expect(rule?["matches"] == [["path": ["type": "PathPrefix", "value": "/"]]])
        #expect(rule?["backendRefs"] == [["group": "core.apoxy.dev", "kind": "Backend", "name": "web", "port": 8080, "weight": 1]])
        #expect(
            result.object.spec
                == HTTPRouteSpec(rules: [HTTPRouteRule(backendRefs: [HTTPBackendRef(name: "web", port: 8080)])]))
        #expect(result.object.json["spec"]?["rules"]?[0] == rule)
    }

    @Test("a match without a path gets PathPrefix /, a partial path gets the missing half")
    func pathDefaults() {
        let headersOnly = runRoutePipeline(routeDocument(rules: [routeRule(match: ["headers": [["name": "X-Env", "value": "prod"]]])]))
        #expect(headersOnly.isValid, "\(headersOnly.summary)")
        #expect(
            headersOnly.object.spec.rules[0].matches == [
                HTTPRouteMatch(path: HTTPPathMatch(), headers: [HTTPHeaderMatch(name: "X-Env", value: "prod")])
            ])
        #expect(headersOnly.value[path: match0]?["headers"]?[0]?["type"] == "Exact")
        let exact = runRoutePipeline(routeDocument(rules: [routeRule(match: ["path": ["type": "Exact"]])]))
        #expect(exact.object.spec.rules[0].matches[0].path == HTTPPathMatch(type: .exact, value: "/"))
        let value = runRoutePipeline(routeDocument(rules: [routeRule(match: ["path": ["value": "/api"]])]))
        #expect(value.object.spec.rules[0].matches[0].path == HTTPPathMatch(type: .pathPrefix, value: "/api"))
    }

    @Test("an explicit empty matches list stays empty")
    func emptyMatches() {
        let result = runRoutePipeline(routeDocument(rules: [routeRule(["matches": []])]))
        #expect(result.isValid, "\(result.summary)")
        #expect(result.object.spec.rules[0].matches.isEmpty)
    }

    @Test("the typed JSON round-trips through the pipeline unchanged")
    func roundTrip() {
        let first = runRoutePipeline(
            routeDocument(
                rules: [
                    routeRule([
                        "matches": [
                            ["path": ["type": "Exact", "value": "/x"], "method": "POST", "headers": [["name": "a", "value": "b"]]]
                        ],
                        "timeouts": ["request": "90s"],
                    ])
                ],
                hostnames: ["app.example.com", "*.example.com"],
                status: routeStatus(conditions: [routeCondition("Accepted")])))
        #expect(first.isValid, "\(first.summary)")
        let second = runRoutePipeline(first.object.json)
        #expect(second.isValid, "\(second.summary)")
        #expect(second.object == first.object)
        #expect(HTTPRoute(json: first.object.json) == first.object)
        #expect(first.object.status.parents[0].parentRef == ParentReference(name: "proxy-1"))
    }

    @Test("unknown members are pruned and reported, as for Backend (fieldValidation decides what happens)")
    func unknownFieldsArePruned() {
        let result = runRoutePipeline(routeDocument(extraSpec: ["color": "blue"]))
        #expect(result.isValid, "\(result.summary)")
        #expect(result.unknownFields == ["spec.color"])
        #expect(result.value["spec"]?["color"] == nil)
    }
}

extension JSONValue {
    /// The member at a dotted path with `[i]` indices (`spec.rules[0].matches[0]`).
    subscript(path path: String) -> JSONValue? {
        var current: JSONValue? = self
        for part in path.split(separator: ".") {
            var name = Substring(part)
            var indices: [Int] = []
            while let open = name.lastIndex(of: "["), let i = Int(name[name.index(after: open)..<name.index(before: name.endIndex)]) {
                indices.insert(i, at: 0)
                name = name[..<open]
            }
            current = current?[String(name)]
            for i in indices { current = current?[i] }
        }
        return current
    }
}

// MARK: - spec.hostnames

@Suite("HTTPRoute validation: hostnames")
struct HTTPRouteHostnameTests {
    @Test("valid hostnames", arguments: ["app.example.com", "*.example.com", "localhost", "a-b.c0.io"])
    func valid(hostname: String) {
        let result = runRoutePipeline(routeDocument(hostnames: [.string(hostname)]))
        #expect(result.isValid, "\(result.summary)")
        #expect(result.object.spec.hostnames == [hostname])
    }

    @Test(
        "invalid hostnames are rejected at their index",
        arguments: [
            ("App.example.com", FieldError.Kind.invalid), ("*", .invalid), ("*.", .invalid), ("foo.*.example.com", .invalid),
            ("example.com:8080", .invalid), ("10.0.0.1", .invalid), ("::1", .invalid), ("-a.example.com", .invalid),
            ("example.com.", .invalid), ("", .invalid),
        ])
    func invalid(hostname: String, kind: FieldError.Kind) {
        let result = runRoutePipeline(routeDocument(hostnames: ["ok.example.com", .string(hostname)]))
        #expect(result.has(kind, at: "spec.hostnames[1]"), "\(result.summary)")
        #expect(result.kinds(at: "spec.hostnames[0]").isEmpty)
    }

    @Test("an IPv4 address is refused with a message saying so")
    func ipMessage() {
        let result = runRoutePipeline(routeDocument(hostnames: ["192.168.0.1"]))
        #expect(result.errors.map(\.detail) == ["must be a DNS name, not an IP address"])
    }

    @Test("at most 16 hostnames, no duplicates, at most 253 bytes")
    func limits() {
        let many = runRoutePipeline(routeDocument(hostnames: .array((0..<17).map { .string("h\($0).example.com") })))
        #expect(many.has(.tooMany, at: "spec.hostnames"), "\(many.summary)")
        let sixteen = runRoutePipeline(routeDocument(hostnames: .array((0..<16).map { .string("h\($0).example.com") })))
        #expect(sixteen.isValid, "\(sixteen.summary)")
        let duplicate = runRoutePipeline(routeDocument(hostnames: ["a.example.com", "a.example.com"]))
        #expect(duplicate.has(.duplicate, at: "spec.hostnames[1]"), "\(duplicate.summary)")
        let long = String(repeating: "a.", count: 127) + "io"
        let tooLong = runRoutePipeline(routeDocument(hostnames: [.string(long)]))
        #expect(tooLong.has(.tooLong, at: "spec.hostnames[0]"), "\(tooLong.summary)")
    }
}

// MARK: - spec.rules

@Suite("HTTPRoute validation: rules and matches")
struct HTTPRouteRuleTests {
    @Test("rules are required, 1 to 16")
    func ruleCount() {
        var missing = routeDocument()
        missing["spec"] = [:]
        #expect(runRoutePipeline(missing).has(.required, at: "spec.rules"))
        #expect(runRoutePipeline(routeDocument(rules: [])).has(.invalid, at: "spec.rules"))
        #expect(runRoutePipeline(routeDocument(rules: .array(Array(repeating: routeRule(), count: 16)))).isValid)
        #expect(runRoutePipeline(routeDocument(rules: .array(Array(repeating: routeRule(), count: 17)))).has(.tooMany, at: "spec.rules"))
    }

    @Test("at most 8 matches per rule")
    func matchCount() {
        let eight = runRoutePipeline(routeDocument(rules: [routeRule(["matches": .array(Array(repeating: [:], count: 8))])]))
        #expect(eight.isValid, "\(eight.summary)")
        let nine = runRoutePipeline(routeDocument(rules: [routeRule(["matches": .array(Array(repeating: [:], count: 9))])]))
        #expect(nine.has(.tooMany, at: "\(rule0).matches"), "\(nine.summary)")
    }

    @Test("path types: PathPrefix and Exact only")
    func pathType() {
        for type in ["PathPrefix", "Exact"] {
            let result = runRoutePipeline(routeDocument(rules: [routeRule(match: ["path": ["type": .string(type), "value": "/x"]])]))
            #expect(result.isValid, "\(type): \(result.summary)")
        }
        let regex = runRoutePipeline(routeDocument(rules: [routeRule(match: ["path": ["type": "RegularExpression", "value": "/x.*"]])]))
        #expect(regex.has(.notSupported, at: "\(match0).path.type"), "\(regex.summary)")
    }

    @Test(
        "path values start with / and have no whitespace, at most 1024 bytes",
        arguments: [
            ("/", true), ("/api/v1", true), ("/a%20b", true), ("/x?y=1", true), ("api", false), ("", false), ("/a b", false),
            ("/a\tb", false), ("/a\nb", false), ("/" + String(repeating: "a", count: 1023), true),
        ])
    func pathValue(value: String, valid: Bool) {
        let result = runRoutePipeline(routeDocument(rules: [routeRule(match: ["path": ["value": .string(value)]])]))
        #expect(result.isValid == valid, "\(value): \(result.summary)")
        if !valid { #expect(result.has(.invalid, at: "\(match0).path.value"), "\(result.summary)") }
    }

    @Test("a path value over 1024 bytes is too long")
    func pathTooLong() {
        let result = runRoutePipeline(
            routeDocument(rules: [routeRule(match: ["path": ["value": .string("/" + String(repeating: "a", count: 1024))]])]))
        #expect(result.has(.tooLong, at: "\(match0).path.value"), "\(result.summary)")
    }

    @Test("header matches: Exact only, token names, non-empty values, at most 16, unique names ignoring case")
    func headers() {
        func run(_ headers: JSONValue) -> RoutePipelineResult {
            runRoutePipeline(routeDocument(rules: [routeRule(match: ["headers": headers])]))
        }
        let h0 = "\(match0).headers[0]"
        #expect(run([["name": "X-Env", "value": "prod"]]).isValid)
        #expect(run([["type": "Exact", "name": "x_custom!#$%&'*+-.^`|~", "value": "v"]]).isValid)
        #expect(run([["type": "RegularExpression", "name": "X", "value": "v"]]).has(.notSupported, at: "\(h0).type"))
        #expect(run([["name": "X Env", "value": "v"]]).has(.invalid, at: "\(h0).name"))
        #expect(run([["name": "X:Env", "value": "v"]]).has(.invalid, at: "\(h0).name"))
        #expect(run([["name": "", "value": "v"]]).has(.invalid, at: "\(h0).name"))
        #expect(run([["name": "X-Env"]]).has(.required, at: "\(h0).value"))
        #expect(run([["value": "v"]]).has(.required, at: "\(h0).name"))
        #expect(run([["name": "X", "value": ""]]).has(.invalid, at: "\(h0).value"))
        #expect(run(.array((0..<17).map { ["name": .string("h\($0)"), "value": "v"] })).has(.tooMany, at: "\(match0).headers"))
        #expect(run(.array((0..<16).map { ["name": .string("h\($0)"), "value": "v"] })).isValid)
        #expect(run([["name": "X-Env", "value": "a"], ["name": "x-env", "value": "b"]]).has(.duplicate, at: "\(match0).headers[1].name"))
    }

    @Test("methods", arguments: HTTPRoute.methods)
    func validMethod(method: String) {
        #expect(runRoutePipeline(routeDocument(rules: [routeRule(match: ["method": .string(method)])])).isValid)
    }

    @Test("an unknown or lower-case method is unsupported", arguments: ["FETCH", "get", ""])
    func invalidMethod(method: String) {
        let result = runRoutePipeline(routeDocument(rules: [routeRule(match: ["method": .string(method)])]))
        #expect(result.has(.notSupported, at: "\(match0).method"), "\(result.summary)")
    }
}

// MARK: - backendRefs

@Suite("HTTPRoute validation: backendRefs")
struct HTTPRouteBackendRefTests {
    func run(_ ref: JSONValue) -> RoutePipelineResult { runRoutePipeline(routeDocument(rules: [["backendRefs": [ref]]])) }

    @Test("backendRefs are required, 1 to 16")
    func count() {
        #expect(runRoutePipeline(routeDocument(rules: [["matches": [[:]]]])).has(.required, at: "\(rule0).backendRefs"))
        #expect(runRoutePipeline(routeDocument(rules: [["backendRefs": []]])).has(.invalid, at: "\(rule0).backendRefs"))
        let sixteen = runRoutePipeline(routeDocument(rules: [["backendRefs": .array(Array(repeating: routeBackendRef(), count: 16))]]))
        #expect(sixteen.isValid, "\(sixteen.summary)")
        let seventeen = runRoutePipeline(routeDocument(rules: [["backendRefs": .array(Array(repeating: routeBackendRef(), count: 17))]]))
        #expect(seventeen.has(.tooMany, at: "\(rule0).backendRefs"))
    }

    @Test("group and kind default to core.apoxy.dev Backend and accept nothing else")
    func groupAndKind() {
        #expect(run(["name": "web", "group": "core.apoxy.dev", "kind": "Backend"]).isValid)
        #expect(run(["name": "web", "group": ""]).has(.notSupported, at: "\(ref0).group"))
        #expect(run(["name": "web", "group": "gateway.networking.k8s.io"]).has(.notSupported, at: "\(ref0).group"))
        #expect(run(["name": "web", "kind": "Service"]).has(.notSupported, at: "\(ref0).kind"))
    }

    @Test("name is a required DNS-1123 subdomain")
    func name() {
        #expect(run(["port": 80]).has(.required, at: "\(ref0).name"))
        #expect(run(["name": "my-backend.v2"]).isValid)
        for bad in ["My_Backend", "-web", "web-"] {
            #expect(run(["name": .string(bad)]).has(.invalid, at: "\(ref0).name"), "\(bad)")
        }
        #expect(run(["name": .string(String(repeating: "a", count: 254))]).has(.tooLong, at: "\(ref0).name"))
    }

    @Test(
        "port is optional, 1 to 65535", arguments: [(JSONValue.integer(1), true), (65535, true), (0, false), (65536, false), (-1, false)])
    func port(port: JSONValue, valid: Bool) {
        let result = run(["name": "web", "port": port])
        #expect(result.isValid == valid, "\(result.summary)")
        if !valid { #expect(result.has(.invalid, at: "\(ref0).port")) }
        #expect(run(["name": "web"]).object.spec.rules[0].backendRefs[0].port == nil)
        #expect(run(["name": "web", "port": "80"]).has(.typeInvalid, at: "\(ref0).port"))
    }

    @Test(
        "weight is 0 to 1000000, default 1", arguments: [(JSONValue.integer(0), true), (1_000_000, true), (-1, false), (1_000_001, false)])
    func weight(weight: JSONValue, valid: Bool) {
        let result = run(["name": "web", "weight": weight])
        #expect(result.isValid == valid, "\(result.summary)")
        if !valid { #expect(result.has(.invalid, at: "\(ref0).weight")) }
        #expect(run(["name": "web"]).object.spec.rules[0].backendRefs[0].weight == 1)
    }
}

// MARK: - timeouts

@Suite("HTTPRoute validation: timeouts")
struct HTTPRouteTimeoutTests {
    @Test(
        "request timeouts are Go durations of at least 1ms, or 0s; stored in canonical form",
        arguments: [("10s", "10s"), ("90s", "1m30s"), ("1ms", "1ms"), ("0s", "0s"), ("0", "0s"), ("1h", "1h0m0s"), ("1.5s", "1.5s")])
    func valid(input: String, stored: String) {
        let result = runRoutePipeline(routeDocument(rules: [routeRule(["timeouts": ["request": .string(input)]])]))
        #expect(result.isValid, "\(result.summary)")
        #expect(result.object.spec.rules[0].timeouts?.request == stored)
        #expect(result.object.spec.rules[0].timeouts?.requestDuration != nil)
    }

    @Test("invalid request timeouts", arguments: ["500us", "999999ns", "-1s", "soon", "10", ""])
    func invalid(input: String) {
        let result = runRoutePipeline(routeDocument(rules: [routeRule(["timeouts": ["request": .string(input)]])]))
        #expect(result.has(.invalid, at: "\(rule0).timeouts.request"), "\(input): \(result.summary)")
    }

    @Test("no timeouts, or an empty timeouts object, are valid")
    func absent() {
        #expect(runRoutePipeline(routeDocument()).object.spec.rules[0].timeouts == nil)
        let empty = runRoutePipeline(routeDocument(rules: [routeRule(["timeouts": [:]])]))
        #expect(empty.isValid)
        #expect(empty.object.spec.rules[0].timeouts == HTTPRouteTimeouts())
    }
}

// MARK: - Unsupported Gateway API members

@Suite("HTTPRoute validation: unsupported Gateway API fields")
struct HTTPRouteUnsupportedTests {
    @Test(
        "Gateway API members outside the subset are Forbidden with their path, whatever their value",
        arguments: [
            ("spec.parentRefs", routeDocument(extraSpec: ["parentRefs": [["name": "gw"]]])),
            ("spec.parentRefs", routeDocument(extraSpec: ["parentRefs": []])),
            ("spec.useDefaultGateways", routeDocument(extraSpec: ["useDefaultGateways": "All"])),
            ("spec.rules[0].filters", routeDocument(rules: [routeRule(["filters": [["type": "RequestRedirect"]]])])),
            ("spec.rules[0].name", routeDocument(rules: [routeRule(["name": "first"])])),
            ("spec.rules[0].retry", routeDocument(rules: [routeRule(["retry": ["attempts": 2]])])),
            ("spec.rules[0].sessionPersistence", routeDocument(rules: [routeRule(["sessionPersistence": [:]])])),
            (
                "spec.rules[0].matches[0].queryParams",
                routeDocument(rules: [routeRule(match: ["queryParams": [["name": "q", "value": "1"]]])])
            ),
            (
                "spec.rules[0].backendRefs[0].namespace",
                routeDocument(rules: [["backendRefs": [routeBackendRef(["namespace": "default"])]]])
            ),
            ("spec.rules[0].backendRefs[0].filters", routeDocument(rules: [["backendRefs": [routeBackendRef(["filters": []])]]])),
            ("spec.rules[0].timeouts.backendRequest", routeDocument(rules: [routeRule(["timeouts": ["backendRequest": "1s"]])])),
        ])
    func forbidden(field: String, document: JSONValue) {
        let result = runRoutePipeline(document)
        #expect(result.kinds(at: field) == [.forbidden], "\(result.summary)")
        let error = result.errors.first { $0.field == field }
        #expect(error?.description.hasPrefix("\(field): Forbidden: ") == true)
        #expect(error?.detail.contains("is not supported") == true)
        #expect(result.unknownFields.isEmpty, "refused members are errors, not unknown fields")
    }

    @Test("a null unsupported member is dropped like any null")
    func nullIsFine() {
        let result = runRoutePipeline(routeDocument(extraSpec: ["parentRefs": nil]))
        #expect(result.isValid, "\(result.summary)")
    }

    @Test("unsupported members are not published in the schema")
    func notPublished() {
        var collected: [String: Schema] = [:]
        let spec = HTTPRoute.descriptor.schema.property("spec")!.openAPI(refPrefix: "#/", collect: &collected)
        #expect(spec["properties"]?["parentRefs"] == nil)
        #expect(spec["properties"]?["hostnames"] != nil)
        #expect(spec["required"] == ["rules"])
    }
}

// MARK: - status

@Suite("HTTPRoute validation: status")
struct HTTPRouteStatusTests {
    @Test("a Gateway API shaped status is valid, with parentRef defaults")
    func valid() {
        let result = runRoutePipeline(
            routeDocument(status: routeStatus(conditions: [routeCondition("Accepted"), routeCondition("ResolvedRefs", status: "False")])))
        #expect(result.isValid, "\(result.summary)")
        let parent = result.object.status.parents[0]
        #expect(parent.parentRef == ParentReference(group: "core.apoxy.dev", kind: "Proxy", name: "proxy-1"))
        #expect(parent.controllerName == "apoxy.dev/backplane")
        #expect(parent.conditions.map(\.type) == ["Accepted", "ResolvedRefs"])
    }

    @Test("conditions reuse metav1.Condition's validation: keyed by type, at most 8")
    func conditions() {
        let duplicate = runRoutePipeline(
            routeDocument(status: routeStatus(conditions: [routeCondition("Accepted"), routeCondition("Accepted")])))
        #expect(duplicate.has(.duplicate, at: "status.parents[0].conditions[1].type"), "\(duplicate.summary)")
        let badStatus = runRoutePipeline(routeDocument(status: routeStatus(conditions: [routeCondition("Accepted", status: "Maybe")])))
        #expect(badStatus.has(.notSupported, at: "status.parents[0].conditions[0].status"))
        let nine = runRoutePipeline(routeDocument(status: routeStatus(conditions: (0..<9).map { routeCondition("C\($0)") })))
        #expect(nine.has(.tooMany, at: "status.parents[0].conditions"))
        let badType = runRoutePipeline(routeDocument(status: routeStatus(conditions: [routeCondition("not a type")])))
        #expect(badType.has(.invalid, at: "status.parents[0].conditions[0].type"))
    }

    @Test("parentRef.name and controllerName are required; controllerName is a domain-prefixed path")
    func parentFields() {
        #expect(runRoutePipeline(routeDocument(status: routeStatus(parentRef: [:]))).has(.required, at: "status.parents[0].parentRef.name"))
        #expect(
            runRoutePipeline(routeDocument(status: ["parents": [["parentRef": ["name": "p"]]]])).has(
                .required, at: "status.parents[0].controllerName"))
        for bad in ["backplane", "apoxy.dev/", "Apoxy.dev/x", "apoxy.dev/a b"] {
            let result = runRoutePipeline(routeDocument(status: routeStatus(controllerName: .string(bad))))
            #expect(result.has(.invalid, at: "status.parents[0].controllerName"), "\(bad): \(result.summary)")
        }
    }

    @Test("one entry per parent and controller")
    func duplicateParents() {
        let entry: JSONValue = ["parentRef": ["name": "p"], "controllerName": "apoxy.dev/backplane"]
        let result = runRoutePipeline(routeDocument(status: ["parents": [entry, entry]]))
        #expect(result.has(.duplicate, at: "status.parents[1]"), "\(result.summary)")
    }
}
