import ApoxyAPI
import Testing

private let dns1123Message =
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"

private let labelValueMessage =
    "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"

private let namePartMessage =
    "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"

// MARK: - FieldError and FieldPath

@Suite("FieldError")
struct FieldErrorTests {
    @Test(
        "description is `field: Phrase[: value][: detail]` as kube prints it",
        arguments: [
            (
                FieldError(.notSupported, "spec.protocol", "x", #"supported values: "", "tls", "h2", "h2c""#),
                #"spec.protocol: Unsupported value: "x": supported values: "", "tls", "h2", "h2c""#
            ),
            (FieldError(.required, "spec.endpoints"), "spec.endpoints: Required value"),
            (
                FieldError(.required, "spec.endpoints", "ignored", "at least one endpoint is required"),
                "spec.endpoints: Required value: at least one endpoint is required"
            ),
            (FieldError(.invalid, "spec.endpoints", 3, "exactly one"), "spec.endpoints: Invalid value: 3: exactly one"),
            (FieldError(.invalid, "f", "a\"b\\c", "d"), #"f: Invalid value: "a\"b\\c": d"#),
            (FieldError(.invalid, "f", nil, "d"), "f: Invalid value: d"),
            (FieldError(.invalid, "f", "v"), #"f: Invalid value: "v""#),
            (FieldError(.invalid, "f", true, "d"), "f: Invalid value: true: d"),
            (FieldError(.invalid, "f", .null, "d"), "f: Invalid value: null: d"),
            (FieldError(.invalid, "f", 1.5, "d"), "f: Invalid value: 1.5: d"),
            (FieldError(.invalid, "f", ["b": 1, "a": [true]], "d"), #"f: Invalid value: {"a":[true],"b":1}: d"#),
            (
                FieldError(.typeInvalid, "spec.protocol", "integer", #"spec.protocol in body must be of type string: "integer""#),
                #"spec.protocol: Invalid value: "integer": spec.protocol in body must be of type string: "integer""#
            ),
            (FieldError(.forbidden, "f", "v", "may not be set"), "f: Forbidden: may not be set"),
            (FieldError(.tooLong, "f", "vvvv", "may not be more than 3 bytes"), "f: Too long: may not be more than 3 bytes"),
            (FieldError(.tooMany, "f", 9, "must have at most 8 items"), "f: Too many: must have at most 8 items"),
            (FieldError(.duplicate, "metadata.finalizers[1]", "a/b"), #"metadata.finalizers[1]: Duplicate value: "a/b""#),
            (FieldError(.invalid, "", "v", "d"), #"Invalid value: "v": d"#),
        ])
    func description(error: FieldError, text: String) {
        #expect(error.description == text)
        let message = error.field.isEmpty ? text : String(text.dropFirst(error.field.count + 2))
        #expect(error.causeMessage == message)
    }

    @Test(
        "kinds map to kube's StatusCause reasons",
        arguments: [
            (FieldError.Kind.required, "FieldValueRequired"), (.invalid, "FieldValueInvalid"), (.notSupported, "FieldValueNotSupported"),
            (.forbidden, "FieldValueForbidden"), (.tooLong, "FieldValueTooLong"), (.tooMany, "FieldValueTooMany"),
            (.duplicate, "FieldValueDuplicate"), (.typeInvalid, "FieldValueTypeInvalid"),
        ])
    func reasons(kind: FieldError.Kind, reason: String) {
        #expect(kind.rawValue == reason)
    }

    @Test("field paths render members, indices and map keys")
    func paths() {
        #expect(FieldPath("spec").child("endpoints").index(0).child("ip").description == "spec.endpoints[0].ip")
        #expect(FieldPath().child("spec").description == "spec")
        #expect(FieldPath().description == "")
        #expect(FieldPath().index(2).description == "[2]")
        #expect(
            FieldPath("metadata").child("labels").key("app.kubernetes.io/name").description == "metadata.labels[app.kubernetes.io/name]")
        #expect(FieldPath("status").child("conditions").index(1).index(0).description == "status.conditions[1][0]")
    }
}

// MARK: - StatusError

@Suite("StatusError")
struct StatusErrorTests {
    private let unsupported = FieldError(.notSupported, "spec.protocol", "x", #"supported values: "", "tls", "h2", "h2c""#)
    private let required = FieldError(.required, "spec.endpoints")

    @Test("invalid with one cause puts it in the message without brackets")
    func invalidSingle() {
        let error = StatusError.invalid(kind: "Backend", group: "core.apoxy.dev", name: "web", [unsupported])
        #expect(error.code == 422)
        #expect(error.reason == .invalid)
        #expect(
            error.message
                == #"Backend.core.apoxy.dev "web" is invalid: spec.protocol: Unsupported value: "x": supported values: "", "tls", "h2", "h2c""#
        )
        #expect(error.name == "web")
        #expect(error.group == "core.apoxy.dev")
        #expect(error.kind == "Backend")
        #expect(error.causes == [unsupported])
        #expect(error.description == "422 Invalid: \(error.message)")
    }

    @Test("invalid with several causes lists them in brackets, comma-separated")
    func invalidSeveral() {
        let error = StatusError.invalid(kind: "Backend", group: "core.apoxy.dev", name: "web", [required, unsupported])
        #expect(
            error.message
                == #"Backend.core.apoxy.dev "web" is invalid: [spec.endpoints: Required value, spec.protocol: Unsupported value: "x": supported values: "", "tls", "h2", "h2c"]"#
        )
    }

    @Test("the Status JSON carries kind, apiVersion, code, reason and causes with field, reason and message")
    func invalidJSON() {
        let error = StatusError.invalid(
            kind: "Backend", group: "core.apoxy.dev", name: "web", [required, unsupported, FieldError(.invalid, "", "x", "whole object")])
        let json = error.json
        #expect(json["kind"] == "Status")
        #expect(json["apiVersion"] == "v1")
        #expect(json["metadata"] == [:])
        #expect(json["status"] == "Failure")
        #expect(json["code"] == 422)
        #expect(json["reason"] == "Invalid")
        #expect(json["message"] == .string(error.message))
        #expect(json["details"]?["name"] == "web")
        #expect(json["details"]?["group"] == "core.apoxy.dev")
        #expect(json["details"]?["kind"] == "Backend")
        #expect(
            json["details"]?["causes"]
                == [
                    ["reason": "FieldValueRequired", "message": "Required value", "field": "spec.endpoints"],
                    [
                        "reason": "FieldValueNotSupported", "field": "spec.protocol",
                        "message": #"Unsupported value: "x": supported values: "", "tls", "h2", "h2c""#,
                    ],
                    ["reason": "FieldValueInvalid", "message": #"Invalid value: "x": whole object"#],
                ])
        #expect(json["details"]?["retryAfterSeconds"] == nil)
    }

    @Test("a Status with no details omits the details member")
    func noDetails() {
        let json = StatusError.badRequest("bad").json
        #expect(json["details"] == nil)
        #expect(json["code"] == 400)
        #expect(json["reason"] == "BadRequest")
        #expect(json["message"] == "bad")
    }

    @Test("the other constructors use kube's codes, reasons and wording")
    func constructors() {
        let resource = GroupResource(group: "core.apoxy.dev", resource: "backends")
        #expect(resource.description == "backends.core.apoxy.dev")
        #expect(GroupResource(group: "", resource: "namespaces").description == "namespaces")
        let notFound = StatusError.notFound(resource, "web")
        #expect(notFound.code == 404)
        #expect(notFound.reason == .notFound)
        #expect(notFound.message == #"backends.core.apoxy.dev "web" not found"#)
        #expect(notFound.json["reason"] == "NotFound")
        // A bare HTTP code gets kube's reason word, not the HTTP reason phrase ("Payload Too Large").
        #expect(StatusReason(code: 413) == .requestEntityTooLarge)
        #expect(StatusReason(code: 422).rawValue == "Invalid")
        #expect(StatusReason(code: 418) == .unknown)
        #expect(notFound.json["details"] == ["name": "web", "group": "core.apoxy.dev", "kind": "backends"])
        let exists = StatusError.alreadyExists(resource, "web")
        #expect(exists.code == 409)
        #expect(exists.message == #"backends.core.apoxy.dev "web" already exists"#)
        let conflict = StatusError.conflict(resource, "web")
        #expect(conflict.code == 409)
        #expect(conflict.reason == .conflict)
        #expect(
            conflict.message
                == #"Operation cannot be fulfilled on backends.core.apoxy.dev "web": the object has been modified; please apply your changes to the latest version and try again"#
        )
        let unavailable = StatusError.unavailable("later")
        #expect(unavailable.code == 503)
        #expect(unavailable.json["details"]?["retryAfterSeconds"] == 1)
        #expect(StatusError.internalError("boom").message == "Internal error occurred: boom")
        #expect(StatusError.requestEntityTooLarge(limit: 10).code == 413)
    }
}

// MARK: - NameValidation

private let long63 = String(repeating: "a", count: 63)
private let long64 = String(repeating: "a", count: 64)

@Suite("NameValidation")
struct NameValidationTests {
    @Test(
        "valid DNS-1123 subdomains have no errors",
        arguments: [
            "a", "0", "example.com", "my-backend", "a.b.c", "a-1.b-2", "123", "web-01.prod", long64, long64 + "." + long64,
            String(repeating: "a", count: 253),
        ])
    func subdomainValid(name: String) {
        #expect(NameValidation.dns1123SubdomainErrors(name) == [])
    }

    @Test(
        "invalid DNS-1123 subdomains get kube's regex message",
        arguments: ["", "A", "Example", "-a", "a-", "a..b", ".a", "a.", "a_b", "a b", "\u{e4}", "a/b", "a.-b", "web:1"])
    func subdomainInvalid(name: String) {
        #expect(NameValidation.dns1123SubdomainErrors(name) == [dns1123Message])
    }

    @Test("a subdomain longer than 253 gets the length message")
    func subdomainTooLong() {
        #expect(NameValidation.dns1123SubdomainErrors(String(repeating: "a", count: 254)) == ["must be no more than 253 characters"])
        #expect(
            NameValidation.dns1123SubdomainErrors(String(repeating: "A", count: 254))
                == ["must be no more than 253 characters", dns1123Message])
    }

    @Test(
        "DNS-1123 labels",
        arguments: [("a", true), ("a-b", true), ("0a", true), ("-a", false), ("a-", false), ("A", false), ("", false), ("a.b", false)])
    func label(text: String, valid: Bool) {
        #expect(NameValidation.isDNS1123Label(Substring(text).utf8) == valid)
    }

    @Test(
        "valid qualified names have no errors",
        arguments: ["a", "A", "MyName", "my.name", "123-abc", "a_b", "example.com/MyName", "core.apoxy.dev/cleanup", long63, "x/" + long63])
    func qualifiedValid(name: String) {
        #expect(NameValidation.qualifiedNameErrors(name) == [])
    }

    @Test(
        "invalid qualified names are rejected with a reason",
        arguments: [
            ("", "name part must be non-empty"), ("-a", namePartMessage), ("a-", namePartMessage), ("a b", namePartMessage),
            ("a$", namePartMessage), ("example.com/", "name part must be non-empty"), ("/a", "prefix part must be non-empty"),
            (long64, "name part must be no more than 63 characters"), ("Example.com/a", "prefix part " + dns1123Message),
        ])
    func qualifiedInvalid(name: String, message: String) {
        #expect(NameValidation.qualifiedNameErrors(name).contains(message), "\(NameValidation.qualifiedNameErrors(name))")
    }

    @Test("a name with two slashes is not a qualified name")
    func twoSlashes() {
        let errors = NameValidation.qualifiedNameErrors("a/b/c")
        #expect(errors.count == 1)
        #expect(errors.first?.hasPrefix("a qualified name must consist of alphanumeric characters") == true)
    }

    @Test("valid label values have no errors", arguments: ["", "a", "MyValue", "my_value", "12345", "a.b-c_d", long63])
    func labelValueValid(value: String) {
        #expect(NameValidation.labelValueErrors(value) == [])
    }

    @Test("invalid label values get kube's regex message", arguments: ["-a", "a-", "a b", "a/b", "\u{e4}", "_a", "a."])
    func labelValueInvalid(value: String) {
        #expect(NameValidation.labelValueErrors(value) == [labelValueMessage])
    }

    /// k8s.io/apimachinery IsValidLabelValue: the length error alone when the characters are fine.
    @Test("a 64-character label value of valid characters gets only the length message")
    func labelValueTooLong() {
        #expect(NameValidation.labelValueErrors(long64) == ["must be no more than 63 characters"])
    }

    @Test("a long label value with bad characters gets both messages")
    func labelValueTooLongAndBad() {
        #expect(NameValidation.labelValueErrors("-" + long64) == ["must be no more than 63 characters", labelValueMessage])
    }

    // The published pattern requires labels after the first to have at least two characters.
    @Test(
        "FQDN check: the published pattern, labels of at most 63, at most 253 bytes",
        arguments: [
            ("example.com", true), (long63 + ".com", true), (long64 + ".com", false), ("", false), ("a.", false),
            ("a" + String(repeating: ".ab", count: 84), true), ("a" + String(repeating: ".ab", count: 84) + "c", false),
            ("a.b", false), (String(repeating: "a.", count: 126) + "a", false),
        ])
    func fqdn(name: String, valid: Bool) {
        #expect(NameValidation.isFQDN(name) == valid)
    }
}

// MARK: - ObjectMeta validation

@Suite("ObjectMeta.validate")
struct ObjectMetaValidationTests {
    private func meta(labels: [String: String] = [:], annotations: [String: String] = [:], finalizers: [String] = []) -> ObjectMeta {
        var meta = ObjectMeta(name: "x")
        meta.labels = labels
        meta.annotations = annotations
        meta.finalizers = finalizers
        return meta
    }

    @Test("good labels, annotations and finalizers pass")
    func valid() {
        let m = meta(
            labels: ["app": "web", "app.kubernetes.io/name": "web-1", "empty": "", "a_b.c-d": "X"],
            annotations: ["kubectl.kubernetes.io/last-applied-configuration": "{\"any\": \"thing\"}", "Note": "x y z"],
            finalizers: ["core.apoxy.dev/cleanup", "foregroundDeletion"])
        #expect(m.validate(at: FieldPath("metadata")) == [])
    }

    @Test(
        "bad label keys are Invalid at metadata.labels with the key as value",
        arguments: ["bad key", "-a", "a/b/c", "/a", "Example.com/a", long64, ""])
    func badLabelKey(key: String) {
        let errors = meta(labels: [key: "v"]).validate(at: FieldPath("metadata"))
        #expect(!errors.isEmpty)
        #expect(errors.allSatisfy { $0.kind == .invalid && $0.field == "metadata.labels" && $0.badValue == .string(key) })
    }

    @Test("bad label values are Invalid at metadata.labels with the value", arguments: ["bad value", "-a", "a-", "a/b", long64])
    func badLabelValue(value: String) {
        let errors = meta(labels: ["k": value]).validate(at: FieldPath("metadata"))
        #expect(!errors.isEmpty)
        #expect(errors.allSatisfy { $0.kind == .invalid && $0.field == "metadata.labels" && $0.badValue == .string(value) })
    }

    @Test("a label key error reads as kube's")
    func labelKeyMessage() {
        let errors = meta(labels: ["bad key": "v"]).validate(at: FieldPath("metadata"))
        #expect(errors.map(\.description) == [#"metadata.labels: Invalid value: "bad key": "# + namePartMessage])
    }

    @Test("bad annotation keys are Invalid at metadata.annotations", arguments: ["bad key", "-a", "a/b/c"])
    func badAnnotationKey(key: String) {
        let errors = meta(annotations: [key: "v"]).validate(at: FieldPath("metadata"))
        #expect(!errors.isEmpty)
        #expect(errors.allSatisfy { $0.kind == .invalid && $0.field == "metadata.annotations" && $0.badValue == .string(key) })
    }

    @Test("annotations over 256 KiB in total are Too long")
    func annotationsTooLong() {
        let atLimit = meta(annotations: ["k": String(repeating: "v", count: 262_143)])
        #expect(atLimit.validate(at: FieldPath("metadata")) == [])
        let over = meta(annotations: ["k": String(repeating: "v", count: 262_144)])
        #expect(
            over.validate(at: FieldPath("metadata")).map(\.description) == [
                "metadata.annotations: Too long: may not be more than 262144 bytes"
            ])
    }

    @Test("bad finalizer names are Invalid at their index", arguments: ["bad finalizer", "-x", "a/b/c", "example.com/", "/x"])
    func badFinalizer(name: String) {
        let errors = meta(finalizers: ["ok.example.com/f", name]).validate(at: FieldPath("metadata"))
        #expect(!errors.isEmpty)
        #expect(errors.allSatisfy { $0.kind == .invalid && $0.field == "metadata.finalizers[1]" && $0.badValue == .string(name) })
    }

    @Test("duplicate finalizers are Duplicate at the repeated index")
    func duplicateFinalizers() {
        let errors = meta(finalizers: ["a.io/x", "b.io/y", "a.io/x", "a.io/x"]).validate(at: FieldPath("metadata"))
        #expect(errors.map(\.kind) == [.duplicate, .duplicate])
        #expect(errors.map(\.field) == ["metadata.finalizers[2]", "metadata.finalizers[3]"])
        #expect(errors.first?.description == #"metadata.finalizers[2]: Duplicate value: "a.io/x""#)
    }

    @Test("the path prefix is the one passed in")
    func pathPrefix() {
        let errors = meta(finalizers: ["x", "x"]).validate(at: FieldPath("items").index(3).child("metadata"))
        #expect(errors.map(\.field) == ["items[3].metadata.finalizers[1]"])
    }

    @Test("ObjectMeta JSON round-trips, omitting empty members")
    func jsonRoundTrip() {
        var m = ObjectMeta(name: "web")
        m.uid = "u-1"
        m.resourceVersion = "7"
        m.generation = 2
        m.creationTimestamp = 1_714_557_600
        m.labels = ["a": "b"]
        m.finalizers = ["x.io/y"]
        #expect(ObjectMeta(json: m.json) == m)
        #expect(m.json["creationTimestamp"] == "2024-05-01T10:00:00Z")
        #expect(ObjectMeta().json == [:])
    }
}

// MARK: - Condition

@Suite("Condition")
struct ConditionTests {
    @Test("JSON round-trips")
    func roundTrip() {
        let c = Condition(
            type: "Programmed", status: "False", observedGeneration: 4, lastTransitionTime: 1_714_557_600, reason: "EnvoyNACK",
            message: "bad config")
        #expect(Condition(json: c.json) == c)
        #expect(
            c.json
                == [
                    "type": "Programmed", "status": "False", "observedGeneration": 4, "lastTransitionTime": "2024-05-01T10:00:00Z",
                    "reason": "EnvoyNACK", "message": "bad config",
                ])
        var noGeneration = c
        noGeneration.observedGeneration = nil
        #expect(noGeneration.json["observedGeneration"] == nil)
    }

    @Test("validate rejects duplicate types and non-qualified-name types")
    func validate() {
        let a = Condition(type: "Accepted", status: "True", lastTransitionTime: 0, reason: "Ok", message: "")
        var bad = a
        bad.type = "not valid"
        let errors = Condition.validate([a, a, bad], at: FieldPath("status").child("conditions"))
        #expect(errors.map(\.field) == ["status.conditions[1].type", "status.conditions[2].type"])
        #expect(errors.map(\.kind) == [.duplicate, .invalid])
        #expect(Condition.validate([a], at: FieldPath("status").child("conditions")) == [])
    }
}

// MARK: - RFC 3339

@Suite("RFC3339")
struct RFC3339Tests {
    @Test(
        "parses timestamps with Z, fractions and offsets to epoch seconds",
        arguments: [
            ("1970-01-01T00:00:00Z", Int64(0)), ("2024-05-01T10:00:00Z", 1_714_557_600), ("2024-05-01T10:00:00.123456Z", 1_714_557_600),
            ("2024-05-01T10:00:00.999999999Z", 1_714_557_600), ("2024-05-01T15:30:00+05:30", 1_714_557_600),
            ("2024-05-01T05:00:00-05:00", 1_714_557_600), ("2024-05-01T10:00:00+00:00", 1_714_557_600),
            ("2024-05-01T10:00:00-00:00", 1_714_557_600), ("2024-05-02T09:59:00+23:59", 1_714_557_600),
            ("2024-02-29T00:00:00Z", 1_709_164_800), ("2000-02-29T00:00:00Z", 951_782_400), ("1969-12-31T23:59:59Z", -1),
            ("0001-01-01T00:00:00Z", -62_135_596_800), ("9999-12-31T23:59:59Z", 253_402_300_799), ("2038-01-19T03:14:08Z", 2_147_483_648),
        ])
    func parse(text: String, seconds: Int64) {
        #expect(RFC3339.parse(text) == seconds)
    }

    @Test(
        "rejects text that is not an RFC 3339 date-time",
        arguments: [
            "", "2024-05-01", "2024-05-01T10:00:00", "2024-5-01T10:00:00Z", "2024-05-01T10:00Z", "2024-05-01 10:00:00Z",
            "2024-02-30T00:00:00Z", "2023-02-29T00:00:00Z", "1900-02-29T00:00:00Z", "2024-04-31T00:00:00Z", "2024-00-10T00:00:00Z",
            "2024-13-10T00:00:00Z", "2024-05-00T00:00:00Z", "2024-05-01T24:00:00Z", "2024-05-01T10:60:00Z", "2024-05-01T10:00:00+0530",
            "2024-05-01T10:00:00+05:30Z", "2024-05-01T10:00:00.Z", "2024-05-01T10:00:00ZZ", "2024-05-01T10:00:00+24:00",
            "2024-05-01T10:00:00+05:60", "abcd-ef-ghTij:kl:mnZ", "2024-05-01T10:00:00 Z", " 2024-05-01T10:00:00Z", "2024-05-01T10:00:00+05",
            "+2024-05-01T10:00:00Z",
        ])
    func invalid(text: String) {
        #expect(RFC3339.parse(text) == nil)
    }

    /// metav1.Time and the OpenAPI date-time check parse with Go's `time.Parse(time.RFC3339, ...)`, which rejects a
    /// 60th second and lower-case `t`/`z`; the server must not accept timestamps kube-apiserver rejects.
    @Test(
        "rejects what Go's time.Parse(RFC3339) rejects",
        arguments: ["2016-12-31T23:59:60Z", "2024-05-01t10:00:00Z", "2024-05-01T10:00:00z"])
    func goStrictness(text: String) {
        #expect(RFC3339.parse(text) == nil)
    }

    @Test(
        "formats epoch seconds as YYYY-MM-DDTHH:MM:SSZ",
        arguments: [
            (Int64(0), "1970-01-01T00:00:00Z"), (-1, "1969-12-31T23:59:59Z"), (1_714_557_600, "2024-05-01T10:00:00Z"),
            (951_782_400, "2000-02-29T00:00:00Z"), (253_402_300_799, "9999-12-31T23:59:59Z"), (-62_135_596_800, "0001-01-01T00:00:00Z"),
            (-86_400, "1969-12-31T00:00:00Z"), (-86_401, "1969-12-30T23:59:59Z"),
        ])
    func format(seconds: Int64, text: String) {
        #expect(RFC3339.format(seconds) == text)
    }

    @Test("format then parse is the identity over a wide range of instants")
    func roundTrip() {
        var seconds: Int64 = -62_135_596_800
        while seconds <= 253_402_300_799 {
            #expect(RFC3339.parse(RFC3339.format(seconds)) == seconds)
            seconds += 7_919_993  // a prime step of ~92 days, so every month and time of day is visited
        }
        for s in Int64(-200_000)...200_000 where s % 997 == 0 {
            #expect(RFC3339.parse(RFC3339.format(s)) == s)
        }
    }

    @Test(
        "parse then format normalises offsets and fractions to whole-second UTC",
        arguments: [
            ("2024-05-01T15:30:00+05:30", "2024-05-01T10:00:00Z"), ("2024-01-01T01:00:00+02:00", "2023-12-31T23:00:00Z"),
            ("2023-12-31T22:00:00-03:00", "2024-01-01T01:00:00Z"), ("2024-05-01T10:00:00.75Z", "2024-05-01T10:00:00Z"),
            ("2024-02-28T23:30:00-01:00", "2024-02-29T00:30:00Z"),
        ])
    func normalise(input: String, output: String) throws {
        let seconds = try #require(RFC3339.parse(input))
        #expect(RFC3339.format(seconds) == output)
    }
}

// MARK: - Resource descriptor

@Suite("Backend resource descriptor")
struct BackendDescriptorTests {
    @Test("names match backend-semantics.md")
    func names() {
        let d = Backend.descriptor
        #expect(d.group == "core.apoxy.dev")
        #expect(d.version == "v1alpha2")
        #expect(d.apiVersion == "core.apoxy.dev/v1alpha2")
        #expect(d.kind == "Backend")
        #expect(d.listKind == "BackendList")
        #expect(d.plural == "backends")
        #expect(d.singular == "backend")
        #expect(d.shortNames == ["be"])
        #expect(d.hasStatusSubresource)
        #expect(d.groupResource.description == "backends.core.apoxy.dev")
        #expect(d.componentName == "dev.apoxy.core.v1alpha2.Backend")
    }

    @Test("the typed Backend serialises apiVersion and kind, and status only when it has conditions")
    func typedJSON() {
        let backend = Backend(
            metadata: ObjectMeta(name: "web"), spec: BackendSpec(endpoints: [BackendEndpoint(ip: "10.0.0.1")], protocol: "h2"))
        #expect(
            backend.json
                == [
                    "apiVersion": "core.apoxy.dev/v1alpha2", "kind": "Backend", "metadata": ["name": "web"],
                    "spec": ["endpoints": [["ip": "10.0.0.1"]], "protocol": "h2"],
                ])
        #expect(Backend(json: backend.json) == backend)
        #expect(BackendEndpoint(fqdn: "a.io").address == "a.io")
        #expect(BackendEndpoint(ip: "::1").address == "::1")
    }
}
