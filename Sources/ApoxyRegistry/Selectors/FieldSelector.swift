public import ApoxyAPI
import Foundation

/// A parsed field selector: `field=value`, `field==value`, `field!=value`, comma-joined.
public struct FieldSelector: Sendable, Equatable {
    /// One requirement on a field.
    public struct Requirement: Sendable, Equatable {
        public var field: String
        public var value: String
        public var negated: Bool
    }

    public var requirements: [Requirement]

    /// Matches everything.
    public static let everything = FieldSelector(requirements: [])

    init(requirements: [Requirement]) { self.requirements = requirements }

    /// Parses a selector, accepting only `supportedFields`; anything else is 400 BadRequest as kube answers.
    public init(parsing text: String, supportedFields: [String]) throws(StatusError) {
        var requirements: [Requirement] = []
        for term in Self.splitTerms(text) where !term.isEmpty {
            let field: String
            let value: String
            let negated: Bool
            if let range = term.range(of: "!=") {
                (field, value, negated) = (String(term[..<range.lowerBound]), String(term[range.upperBound...]), true)
            } else if let range = term.range(of: "==") {
                (field, value, negated) = (String(term[..<range.lowerBound]), String(term[range.upperBound...]), false)
            } else if let range = term.range(of: "=") {
                (field, value, negated) = (String(term[..<range.lowerBound]), String(term[range.upperBound...]), false)
            } else {
                throw .badRequest("invalid selector: '\(text)'; can't understand '\(term)'")
            }
            let trimmedField = field.trimmingWhitespace
            guard supportedFields.contains(trimmedField) else {
                throw .badRequest("field label not supported: \(trimmedField)")
            }
            requirements.append(Requirement(field: trimmedField, value: Self.unescape(value.trimmingWhitespace), negated: negated))
        }
        self.requirements = requirements
    }

    /// Splits on commas not escaped with a backslash.
    static func splitTerms(_ text: String) -> [String] {
        var terms: [String] = []
        var current = ""
        var escaped = false
        for c in text {
            if escaped {
                current.append("\\")
                current.append(c)
                escaped = false
            } else if c == "\\" {
                escaped = true
            } else if c == "," {
                terms.append(current)
                current = ""
            } else {
                current.append(c)
            }
        }
        terms.append(current)
        return terms
    }

    static func unescape(_ value: String) -> String {
        var result = ""
        var escaped = false
        for c in value {
            if escaped {
                result.append(c)
                escaped = false
            } else if c == "\\" {
                escaped = true
            } else {
                result.append(c)
            }
        }
        return result
    }

    /// Whether the fields (looked up with `value(field)`) satisfy every requirement.
    public func matches(_ value: (String) -> String?) -> Bool {
        requirements.allSatisfy { requirement in
            let actual = value(requirement.field) ?? ""
            return requirement.negated ? actual != requirement.value : actual == requirement.value
        }
    }

    /// The exact name required by `metadata.name=X`, if any (used to avoid a full scan).
    public var exactName: String? {
        requirements.first { $0.field == "metadata.name" && !$0.negated }?.value
    }

    /// True when the selector has no requirements.
    public var isEmpty: Bool { requirements.isEmpty }
}

extension String {
    var trimmingWhitespace: String {
        var s = Substring(self)
        while s.first?.isWhitespace == true { s.removeFirst() }
        while s.last?.isWhitespace == true { s.removeLast() }
        return String(s)
    }
}
