public import ApoxyAPI

/// A resource's selectable fields, as kube's CRD `selectableFields` define them: dotted JSON paths whose values field
/// selectors compare. The one definition of a field's value, so lists from storage and from the watch cache agree.
public struct SelectableFields: Sendable {
    /// The field names (dotted paths), in order.
    public let names: [String]
    private let paths: [[String]]

    /// Fields at the given dotted paths.
    public init(_ names: [String]) {
        self.names = names
        self.paths = names.map { $0.split(separator: ".").map(String.init) }
    }

    /// Every field's value in `document`, in `names` order.
    public func values(in document: JSONValue) -> [String] {
        paths.map { Self.text(of: document, at: $0) }
    }

    /// The value of `field` in `document`; nil when `field` is not selectable.
    public func value(of field: String, in document: JSONValue) -> String? {
        names.firstIndex(of: field).map { Self.text(of: document, at: paths[$0]) }
    }

    /// The value of `field` from `values` (as `values(in:)` returned them); nil when `field` is not selectable.
    public func value(of field: String, in values: [String]) -> String? {
        names.firstIndex(of: field).map { values[$0] }
    }

    /// A field's value as a field selector compares it: strings as they are, other scalars as JSON, "" when absent.
    static func text(of document: JSONValue, at path: [String]) -> String {
        var value = document
        for component in path {
            guard let member = value[component] else { return "" }
            value = member
        }
        switch value {
        case .string(let text): return text
        case .null, .object, .array: return ""
        default: return String(decoding: value.serialized(), as: UTF8.self)
        }
    }
}
