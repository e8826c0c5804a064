/// kube's `metav1.StatusReason`: why a call failed, as a machine-readable word clients switch on.
public enum StatusReason: String, Sendable, Hashable, CaseIterable {
    case unknown = ""
    case unauthorized = "Unauthorized"
    case forbidden = "Forbidden"
    case notFound = "NotFound"
    case alreadyExists = "AlreadyExists"
    case conflict = "Conflict"
    case gone = "Gone"
    case invalid = "Invalid"
    case serverTimeout = "ServerTimeout"
    case timeout = "Timeout"
    case tooManyRequests = "TooManyRequests"
    case badRequest = "BadRequest"
    case methodNotAllowed = "MethodNotAllowed"
    case notAcceptable = "NotAcceptable"
    case requestEntityTooLarge = "RequestEntityTooLarge"
    case unsupportedMediaType = "UnsupportedMediaType"
    case internalError = "InternalError"
    case expired = "Expired"
    case serviceUnavailable = "ServiceUnavailable"

    /// The reason kube-apiserver gives a bare HTTP status code (apimachinery's `NewGenericServerResponse`).
    public init(code: Int) {
        switch code {
        case 400: self = .badRequest
        case 401: self = .unauthorized
        case 403: self = .forbidden
        case 404: self = .notFound
        case 405: self = .methodNotAllowed
        case 406: self = .notAcceptable
        case 409: self = .conflict
        case 410: self = .gone
        case 413: self = .requestEntityTooLarge
        case 415: self = .unsupportedMediaType
        case 422: self = .invalid
        case 429: self = .tooManyRequests
        case 500: self = .internalError
        case 503: self = .serviceUnavailable
        case 504: self = .timeout
        default: self = .unknown
        }
    }
}

/// A failed API call, carrying the metav1.Status kube-apiserver would return for it. Every layer throws this
/// (or an error the registry maps to it), and the HTTP server renders it in one place.
public struct StatusError: Error, Sendable, Equatable, CustomStringConvertible {
    /// HTTP status code.
    public var code: Int
    /// `metav1.StatusReason`.
    public var reason: StatusReason
    /// The human-readable message.
    public var message: String
    /// `details.name`.
    public var name: String?
    /// `details.group`.
    public var group: String?
    /// `details.kind`.
    public var kind: String?
    /// `details.causes`.
    public var causes: [FieldError]
    /// `details.retryAfterSeconds`.
    public var retryAfterSeconds: Int?

    /// Creates a status error.
    public init(
        code: Int, reason: StatusReason, message: String, name: String? = nil, group: String? = nil, kind: String? = nil,
        causes: [FieldError] = [], retryAfterSeconds: Int? = nil
    ) {
        self.code = code
        self.reason = reason
        self.message = message
        self.name = name
        self.group = group
        self.kind = kind
        self.causes = causes
        self.retryAfterSeconds = retryAfterSeconds
    }

    public var description: String { "\(code) \(reason.rawValue): \(message)" }

    /// The `Status` object sent to clients.
    public var json: JSONValue {
        var status: JSONObject = [
            "kind": "Status", "apiVersion": "v1", "metadata": .object([:]), "status": "Failure",
            "message": .string(message), "reason": .string(reason.rawValue), "code": .integer(Int64(code)),
        ]
        var details = JSONObject()
        if let name { details["name"] = .string(name) }
        if let group { details["group"] = .string(group) }
        if let kind { details["kind"] = .string(kind) }
        if !causes.isEmpty {
            details["causes"] = .array(
                causes.map { cause in
                    var c: JSONObject = ["reason": .string(cause.kind.rawValue), "message": .string(cause.causeMessage)]
                    if !cause.field.isEmpty { c["field"] = .string(cause.field) }
                    return .object(c)
                })
        }
        if let retryAfterSeconds { details["retryAfterSeconds"] = .integer(Int64(retryAfterSeconds)) }
        if !details.isEmpty { status["details"] = .object(details) }
        return .object(status)
    }
}

extension StatusError {
    /// 404 NotFound for `resource` (`backends.core.apoxy.dev`) named `name`.
    public static func notFound(_ resource: GroupResource, _ name: String) -> StatusError {
        StatusError(
            code: 404, reason: .notFound, message: "\(resource) \"\(name)\" not found", name: name,
            group: resource.group, kind: resource.resource)
    }

    /// 409 AlreadyExists.
    public static func alreadyExists(_ resource: GroupResource, _ name: String) -> StatusError {
        StatusError(
            code: 409, reason: .alreadyExists, message: "\(resource) \"\(name)\" already exists", name: name,
            group: resource.group, kind: resource.resource)
    }

    /// 409 Conflict with kube's wording for a stale resourceVersion, or a custom explanation.
    public static func conflict(
        _ resource: GroupResource, _ name: String,
        _ explanation: String = "the object has been modified; please apply your changes to the latest version and try again"
    ) -> StatusError {
        StatusError(
            code: 409, reason: .conflict, message: "Operation cannot be fulfilled on \(resource) \"\(name)\": \(explanation)",
            name: name, group: resource.group, kind: resource.resource)
    }

    /// 422 Invalid listing every cause.
    public static func invalid(kind: String, group: String, name: String, _ causes: [FieldError]) -> StatusError {
        let list = causes.map(\.description)
        let joined = list.count == 1 ? list[0] : "[" + list.joined(separator: ", ") + "]"
        return StatusError(
            code: 422, reason: .invalid, message: "\(kind).\(group) \"\(name)\" is invalid: \(joined)", name: name,
            group: group, kind: kind, causes: causes)
    }

    /// 400 BadRequest.
    public static func badRequest(_ message: String, causes: [FieldError] = []) -> StatusError {
        StatusError(code: 400, reason: .badRequest, message: message, causes: causes)
    }

    /// 415 UnsupportedMediaType.
    public static func unsupportedMediaType(_ message: String) -> StatusError {
        StatusError(code: 415, reason: .unsupportedMediaType, message: message)
    }

    /// 413 RequestEntityTooLarge.
    public static func requestEntityTooLarge(limit: Int) -> StatusError {
        StatusError(code: 413, reason: .requestEntityTooLarge, message: "Request entity too large: limit is \(limit)")
    }

    /// 405 MethodNotAllowed.
    public static func methodNotAllowed(_ message: String) -> StatusError {
        StatusError(code: 405, reason: .methodNotAllowed, message: message)
    }

    /// 406 NotAcceptable.
    public static func notAcceptable(_ message: String) -> StatusError {
        StatusError(code: 406, reason: .notAcceptable, message: message)
    }

    /// 410 Expired: a resourceVersion or continue token older than retained history.
    public static func expired(_ message: String) -> StatusError {
        StatusError(code: 410, reason: .expired, message: message)
    }

    /// 500 InternalError.
    public static func internalError(_ message: String) -> StatusError {
        StatusError(code: 500, reason: .internalError, message: "Internal error occurred: \(message)")
    }

    /// 503 ServiceUnavailable.
    public static func unavailable(_ message: String) -> StatusError {
        StatusError(code: 503, reason: .serviceUnavailable, message: message, retryAfterSeconds: 1)
    }
}

/// A resource within a group, printed as kube prints it: `backends.core.apoxy.dev`.
public struct GroupResource: Sendable, Hashable, CustomStringConvertible {
    public var group: String
    public var resource: String

    /// Creates a group-resource.
    public init(group: String, resource: String) {
        self.group = group
        self.resource = resource
    }

    public var description: String { group.isEmpty ? resource : "\(resource).\(group)" }
}
