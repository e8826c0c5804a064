public import ApoxyAPI

/// A parsed label selector in kube's string syntax: `a=b`, `a==b`, `a!=b`, `a in (x,y)`, `a notin (x)`,
/// `a`, `!a`, comma-joined (all must hold).
public struct LabelSelector: Sendable, Equatable {
    /// One requirement.
    public enum Requirement: Sendable, Equatable {
        case equals(String, String)
        case notEquals(String, String)
        case `in`(String, Set<String>)
        case notIn(String, Set<String>)
        case exists(String)
        case doesNotExist(String)
    }

    public var requirements: [Requirement]

    /// Matches everything.
    public static let everything = LabelSelector(requirements: [])

    /// Parses a selector; throws 400 BadRequest with the reason on bad syntax.
    public init(parsing text: String) throws(StatusError) {
        var lexer = SelectorLexer(text)
        var requirements: [Requirement] = []
        func fail(_ message: String) -> StatusError {
            .badRequest("unable to parse requirement: \(message)")
        }
        if text.allSatisfy(\.isWhitespace) {
            self.requirements = []
            return
        }
        while true {
            var token = lexer.next()
            var negated = false
            if token == .bang {
                negated = true
                token = lexer.next()
            }
            guard case .identifier(let key) = token else { throw fail("found '\(token.text)', expected: identifier") }
            try Self.validateKey(key)
            if negated {
                requirements.append(.doesNotExist(key))
            } else {
                switch lexer.peek() {
                case .comma, .end:
                    requirements.append(.exists(key))
                case .equals, .doubleEquals, .notEquals:
                    let op = lexer.next()
                    let valueToken = lexer.peek()
                    var value = ""
                    if case .identifier(let v) = valueToken {
                        value = v
                        _ = lexer.next()
                    } else if valueToken != .comma && valueToken != .end {
                        throw fail("found '\(valueToken.text)', expected: identifier")
                    }
                    try Self.validateValue(value)
                    requirements.append(op == .notEquals ? .notEquals(key, value) : .equals(key, value))
                case .identifier(let word) where word == "in" || word == "notin":
                    _ = lexer.next()
                    guard lexer.next() == .openParen else { throw fail("found '\(lexer.lastText)', expected: '('") }
                    var values = Set<String>()
                    while true {
                        let t = lexer.next()
                        switch t {
                        case .identifier(let v):
                            try Self.validateValue(v)
                            values.insert(v)
                            let after = lexer.next()
                            if after == .closeParen { break }
                            guard after == .comma else { throw fail("found '\(after.text)', expected: ',' or ')'") }
                            continue
                        case .closeParen where values.isEmpty:
                            values.insert("")
                        default:
                            throw fail("found '\(t.text)', expected: identifier or ')'")
                        }
                        break
                    }
                    requirements.append(word == "in" ? .in(key, values) : .notIn(key, values))
                default:
                    let t = lexer.peek()
                    throw fail("found '\(t.text)', expected: '=', '!=', '==', 'in', notin'")
                }
            }
            let separator = lexer.next()
            if separator == .end { break }
            guard separator == .comma else { throw fail("found '\(separator.text)', expected: ',' or 'end of string'") }
        }
        self.requirements = requirements
    }

    init(requirements: [Requirement]) { self.requirements = requirements }

    static func validateKey(_ key: String) throws(StatusError) {
        let errors = NameValidation.qualifiedNameErrors(key)
        if !errors.isEmpty {
            throw .badRequest("unable to parse requirement: invalid label key \"\(key)\": \(errors.joined(separator: "; "))")
        }
    }

    static func validateValue(_ value: String) throws(StatusError) {
        let errors = NameValidation.labelValueErrors(value)
        if !errors.isEmpty {
            throw .badRequest("unable to parse requirement: invalid label value: \"\(value)\": \(errors.joined(separator: "; "))")
        }
    }

    /// Whether `labels` satisfy every requirement.
    public func matches(_ labels: [String: String]) -> Bool {
        requirements.allSatisfy { requirement in
            switch requirement {
            case .equals(let k, let v): return labels[k] == v
            case .notEquals(let k, let v): return labels[k] != v
            case .in(let k, let values): return labels[k].map(values.contains) ?? false
            case .notIn(let k, let values): return !(labels[k].map(values.contains) ?? false)
            case .exists(let k): return labels[k] != nil
            case .doesNotExist(let k): return labels[k] == nil
            }
        }
    }

    /// True when the selector has no requirements.
    public var isEmpty: Bool { requirements.isEmpty }
}

/// Tokens of the label selector syntax.
struct SelectorLexer {
    enum Token: Equatable {
        case identifier(String)
        case equals, doubleEquals, notEquals, bang, comma, openParen, closeParen, end

        var text: String {
            switch self {
            case .identifier(let s): return s
            case .equals: return "="
            case .doubleEquals: return "=="
            case .notEquals: return "!="
            case .bang: return "!"
            case .comma: return ","
            case .openParen: return "("
            case .closeParen: return ")"
            case .end: return ""
            }
        }
    }

    private let chars: [Character]
    private var index = 0
    private var peeked: Token?
    private(set) var lastText = ""

    init(_ text: String) { chars = Array(text) }

    mutating func peek() -> Token {
        if let peeked { return peeked }
        let token = scan()
        peeked = token
        return token
    }

    mutating func next() -> Token {
        let token = peek()
        peeked = nil
        lastText = token.text
        return token
    }

    private mutating func scan() -> Token {
        while index < chars.count, chars[index].isWhitespace { index += 1 }
        guard index < chars.count else { return .end }
        let c = chars[index]
        switch c {
        case ",":
            index += 1
            return .comma
        case "(":
            index += 1
            return .openParen
        case ")":
            index += 1
            return .closeParen
        case "=":
            index += 1
            if index < chars.count, chars[index] == "=" {
                index += 1
                return .doubleEquals
            }
            return .equals
        case "!":
            index += 1
            if index < chars.count, chars[index] == "=" {
                index += 1
                return .notEquals
            }
            return .bang
        default:
            var word = ""
            while index < chars.count, !chars[index].isWhitespace, !",()=!".contains(chars[index]) {
                word.append(chars[index])
                index += 1
            }
            return .identifier(word)
        }
    }
}
