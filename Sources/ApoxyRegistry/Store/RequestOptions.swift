public import ApoxyAPI

/// `fieldValidation`: what to do with unknown or duplicate fields in a request body.
public enum FieldValidation: String, Sendable {
    case strict = "Strict"
    case warn = "Warn"
    case ignore = "Ignore"

    /// Parses the query parameter (empty means the default, Warn).
    public static func parse(_ value: String?) throws(StatusError) -> FieldValidation {
        guard let value, !value.isEmpty else { return .warn }
        guard let parsed = FieldValidation(rawValue: value) else {
            throw .badRequest("fieldValidation: Invalid value: \"\(value)\": must be one of Ignore, Warn, Strict")
        }
        return parsed
    }
}

/// Options of create, update and patch.
public struct WriteOptions: Sendable {
    /// `dryRun=All`: validate and answer, persist nothing.
    public var dryRun = false
    public var fieldValidation: FieldValidation = .warn
    /// The manager recorded in managedFields (the `fieldManager` parameter, else derived from the User-Agent).
    public var fieldManager: String?
    /// `force=true` on server-side apply: take over conflicting fields.
    public var force = false

    /// Creates options.
    public init(dryRun: Bool = false, fieldValidation: FieldValidation = .warn, fieldManager: String? = nil, force: Bool = false) {
        self.dryRun = dryRun
        self.fieldValidation = fieldValidation
        self.fieldManager = fieldManager
        self.force = force
    }

    var manager: String { fieldManager ?? "unknown" }
}

/// metav1.DeleteOptions (the members this server acts on).
public struct DeleteOptions: Sendable {
    public var dryRun = false
    public var preconditionUID: String?
    public var preconditionResourceVersion: String?
    public var propagationPolicy: String?
    public var gracePeriodSeconds: Int64?

    /// Creates options.
    public init() {}

    /// Reads a DeleteOptions body; an empty body means defaults.
    public static func parse(body: [UInt8]) throws(StatusError) -> DeleteOptions {
        var options = DeleteOptions()
        guard !body.allSatisfy({ $0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 }) else { return options }
        let json: JSONValue
        do {
            json = try JSONValue.parse(body).value
        } catch {
            throw .badRequest("couldn't decode DeleteOptions: \(error)")
        }
        guard case .object = json else { throw .badRequest("couldn't decode DeleteOptions: expected an object") }
        options.preconditionUID = json["preconditions"]?["uid"]?.stringValue
        options.preconditionResourceVersion = json["preconditions"]?["resourceVersion"]?.stringValue
        options.propagationPolicy = json["propagationPolicy"]?.stringValue
        options.gracePeriodSeconds = json["gracePeriodSeconds"]?.integerValue
        if let dryRun = json["dryRun"]?.arrayValue {
            options.dryRun = try parseDryRun(dryRun.compactMap(\.stringValue))
        }
        try options.validate()
        return options
    }

    /// Checks `propagationPolicy` and `gracePeriodSeconds`.
    public func validate() throws(StatusError) {
        if let policy = propagationPolicy, !["Orphan", "Background", "Foreground"].contains(policy) {
            throw StatusError.invalid(
                kind: "DeleteOptions", group: "meta.k8s.io", name: "",
                [
                    FieldError(
                        .notSupported, "propagationPolicy", .string(policy), "supported values: \"Foreground\", \"Background\", \"Orphan\"")
                ])
        }
        if let grace = gracePeriodSeconds, grace < 0 {
            throw StatusError.invalid(
                kind: "DeleteOptions", group: "meta.k8s.io", name: "",
                [FieldError(.invalid, "gracePeriodSeconds", .integer(grace), "must be greater than or equal to 0")])
        }
    }
}

/// Parses `dryRun` values: only `All` is defined.
public func parseDryRun(_ values: [String]) throws(StatusError) -> Bool {
    for value in values where value != "All" {
        throw .badRequest("dryRun: Unsupported value: \"\(value)\": supported values: \"All\"")
    }
    return !values.isEmpty
}

/// The patch formats a client can send.
public enum PatchType: String, Sendable, CaseIterable {
    case json = "application/json-patch+json"
    case merge = "application/merge-patch+json"
    /// Server-side apply.
    case apply = "application/apply-patch+yaml"

    /// The types accepted, as listed in 415 errors and OpenAPI.
    public static let accepted = allCases.map(\.rawValue)
}

/// Where a write lands: the main resource or its `/status` subresource.
public enum Subresource: Sendable {
    case main
    case status
}
