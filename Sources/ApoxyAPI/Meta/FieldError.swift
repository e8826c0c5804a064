/// One validation failure at a field path, modelled on k8s.io/apimachinery/pkg/util/validation/field.Error.
public struct FieldError: Sendable, Hashable, CustomStringConvertible {
    /// The kind of failure; `reason` is the `StatusCause.reason` kube-apiserver sends for it.
    public enum Kind: String, Sendable, Hashable {
        case required = "FieldValueRequired"
        case invalid = "FieldValueInvalid"
        case notSupported = "FieldValueNotSupported"
        case forbidden = "FieldValueForbidden"
        case tooLong = "FieldValueTooLong"
        case tooMany = "FieldValueTooMany"
        case duplicate = "FieldValueDuplicate"
        case typeInvalid = "FieldValueTypeInvalid"
        /// Server-side apply: another manager owns the field with another value.
        case fieldManagerConflict = "FieldManagerConflict"

        /// The phrase kube puts in the message.
        var phrase: String {
            switch self {
            case .required: return "Required value"
            case .invalid, .typeInvalid: return "Invalid value"
            case .notSupported: return "Unsupported value"
            case .forbidden: return "Forbidden"
            case .tooLong: return "Too long"
            case .tooMany: return "Too many"
            case .duplicate: return "Duplicate value"
            case .fieldManagerConflict: return ""
            }
        }
    }

    /// The failure kind.
    public var kind: Kind
    /// The field path, e.g. `spec.endpoints[0].ip`.
    public var field: String
    /// The offending value when it helps the user (rendered as kube does: strings quoted).
    public var badValue: JSONValue?
    /// The explanation.
    public var detail: String

    /// Creates a field error.
    public init(_ kind: Kind, _ field: String, _ badValue: JSONValue? = nil, _ detail: String = "") {
        self.kind = kind
        self.field = field
        self.badValue = badValue
        self.detail = detail
    }

    /// `StatusCause.message`: the error without its field, e.g. `Invalid value: "x": must be ...`.
    public var causeMessage: String {
        if kind == .fieldManagerConflict { return detail }
        var text = kind.phrase
        switch kind {
        case .required, .forbidden, .tooLong, .tooMany:
            break
        default:
            if let badValue { text += ": " + FieldError.render(badValue) }
        }
        if !detail.isEmpty { text += ": " + detail }
        return text
    }

    /// The full line `field: message`, as in the Status message.
    public var description: String { field.isEmpty ? causeMessage : "\(field): \(causeMessage)" }

    /// The longest rendering of a bad value in a message; longer values are cut, so an error never echoes a whole
    /// large (or alias-expanded) document back.
    public static let maxRenderedValueBytes = 256

    static func render(_ value: JSONValue) -> String {
        let text: String
        switch value {
        case .string(let s): text = String(decoding: JSONValue.string(s).serialized(), as: UTF8.self)
        case .null: return "null"
        case .integer(let i): return String(i)
        case .double(let d): return "\(d)"
        case .bool(let b): return String(b)
        case .array, .object: text = value.jsonString
        }
        guard text.utf8.count > maxRenderedValueBytes else { return text }
        return String(decoding: text.utf8.prefix(maxRenderedValueBytes), as: UTF8.self) + "...(truncated)"
    }
}

/// A field path under construction: `FieldPath("spec").child("endpoints").index(0)` renders `spec.endpoints[0]`.
public struct FieldPath: Sendable, Hashable, CustomStringConvertible {
    /// The rendered path.
    public private(set) var description: String

    /// A path starting at `root` (empty for the object itself).
    public init(_ root: String = "") { description = root }

    /// The path of a member.
    public func child(_ name: String) -> FieldPath {
        FieldPath(description.isEmpty ? name : description + "." + name)
    }

    /// The path of an array element.
    public func index(_ i: Int) -> FieldPath { FieldPath(description + "[\(i)]") }

    /// The path of a map entry, as kube renders it: `metadata.labels[key]`.
    public func key(_ k: String) -> FieldPath { FieldPath(description + "[\(k)]") }
}
