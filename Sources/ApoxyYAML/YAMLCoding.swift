public import ApoxyAPI
import Foundation
import Yams

/// Why a YAML or JSON document could not be read.
public struct DocumentParseError: Error, Sendable, CustomStringConvertible {
    /// What is wrong, with the line and column when known.
    public var message: String
    /// The message.
    public var description: String { message }
}

/// YAML (and JSON) documents to and from `JSONValue`, the form every object takes in this package.
public enum YAMLCoding {
    /// Parses one or more documents: a JSON text, or a YAML stream of `---`-separated documents. Empty documents
    /// are dropped. JSON goes through the strict JSON parser so integers and strings keep their exact types.
    public static func parseDocuments(_ text: String) throws(DocumentParseError) -> [JSONValue] {
        try parseDocuments(text, limits: DecodingLimits(inputBytes: text.utf8.count))
    }

    /// Bounds on what one input may decode to, checked while decoding, before anything grows with an expansion.
    public struct DecodingLimits: Sendable {
        /// Values (scalars, sequences, mappings) all the documents may hold once aliases are expanded.
        public var maxNodes: Int
        /// Nesting of sequences and mappings.
        public var maxDepth: Int

        /// kube-apiserver's YAML decoder rejects "excessive aliasing": expansion far beyond the input's own size. A
        /// document without aliases needs at least two bytes per value, so 4 values per input byte (and 100,000 for
        /// small inputs) leaves ordinary anchors room while a 250-byte alias bomb stops after 100,000 values.
        public init(inputBytes: Int, maxDepth: Int = 256) {
            maxNodes = max(100_000, inputBytes * 4)
            self.maxDepth = maxDepth
        }
    }

    /// `parseDocuments(_:)` with explicit limits.
    public static func parseDocuments(_ text: String, limits: DecodingLimits) throws(DocumentParseError) -> [JSONValue] {
        try checkNesting(text, maxDepth: limits.maxDepth)
        let trimmed = text.drop { $0 == " " || $0 == "\n" || $0 == "\t" || $0 == "\r" || $0 == "\u{FEFF}" }
        if trimmed.first == "{" || trimmed.first == "[" {
            do {
                return [try JSONValue.parse(String(trimmed))]
            } catch {
                // Flow-style YAML also starts with `{`; fall through to the YAML parser and report its error.
            }
        }
        var documents: [JSONValue] = []
        do {
            var sequence = try Yams.compose_all(yaml: text)
            var budget = NodeBudget(remaining: limits.maxNodes, maxDepth: limits.maxDepth)
            while let node = sequence.next() {
                let value = try jsonValue(node, budget: &budget, depth: 0)
                if !value.isNull { documents.append(value) }
            }
            if let error = sequence.error { throw error }
        } catch let error as DocumentParseError {
            throw error
        } catch {
            throw DocumentParseError(message: "invalid YAML: \(describe(error))")
        }
        return documents
    }

    /// `value` as a YAML document (keys sorted by their bytes, two-space indent, strings quoted where YAML would misread them).
    public static func serialize(_ value: JSONValue) -> String {
        // Emitting a tree we built ourselves cannot fail; fall back to JSON (valid YAML) if it ever does. The tree's
        // mappings are sorted already: Yams' own sorting looks values up by key with String equality, which would
        // give two canonically equivalent keys one value.
        (try? Yams.serialize(node: node(value), indent: 2, width: -1, allowUnicode: true, sortKeys: false))
            ?? String(decoding: value.prettySerialized(), as: UTF8.self)
    }

    /// A libyaml error without Swift's enum dump.
    static func describe(_ error: any Error) -> String {
        guard let yamlError = error as? YamlError else { return "\(error)" }
        switch yamlError {
        case .scanner(let context, let problem, let mark, _), .parser(let context, let problem, let mark, _):
            let position = "line \(mark.line), column \(mark.column)"
            if let context { return "\(problem) \(context.text) (\(position))" }
            return "\(problem) (\(position))"
        case .composer(let context, let problem, let mark, _):
            let position = "line \(mark.line), column \(mark.column)"
            if let context { return "\(problem) \(context.text) (\(position))" }
            return "\(problem) (\(position))"
        default:
            return "\(yamlError)"
        }
    }

    /// What decoding may still produce.
    struct NodeBudget {
        var remaining: Int
        let maxDepth: Int
    }

    /// Rejects input that could nest deeper than `maxDepth` before the YAML composer (which recurses, and could
    /// exhaust a thread's stack) sees it. An upper bound, counted per line: open flow brackets (`[`, `{`, counted
    /// even inside quotes, so nothing can hide them), half the indentation, and the block indicators (`- `, `: `)
    /// that open a level on the same line.
    static func checkNesting(_ text: String, maxDepth: Int) throws(DocumentParseError) {
        var flow = 0
        var indentation = 0
        var atLineStart = true
        var indicators = 0
        var previous: UInt8 = 0
        func tooDeep() -> DocumentParseError {
            DocumentParseError(message: "invalid document: nesting deeper than \(maxDepth) levels")
        }
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\n"):
                atLineStart = true
                indentation = 0
                indicators = 0
            case UInt8(ascii: " ") where atLineStart:
                indentation += 1
            case UInt8(ascii: "["), UInt8(ascii: "{"):
                flow += 1
                atLineStart = false
            case UInt8(ascii: "]"), UInt8(ascii: "}"):
                flow = max(0, flow - 1)
                atLineStart = false
            case UInt8(ascii: " ") where previous == UInt8(ascii: "-") || previous == UInt8(ascii: ":"):
                indicators += 1
            default:
                atLineStart = false
            }
            previous = byte
            if flow + indentation / 2 + indicators > maxDepth { throw tooDeep() }
        }
    }

    static func jsonValue(_ node: Node, budget: inout NodeBudget, depth: Int) throws(DocumentParseError) -> JSONValue {
        budget.remaining -= 1
        if budget.remaining < 0 {
            throw DocumentParseError(message: "invalid YAML: document contains excessive aliasing (it expands far beyond its size)")
        }
        if depth > budget.maxDepth {
            throw DocumentParseError(message: "invalid YAML: nesting deeper than \(budget.maxDepth) levels")
        }
        switch node {
        case .scalar(let scalar):
            // `Node.tag` resolves an implicit tag (plain scalars) with the default YAML 1.1 resolver.
            switch Tag.Name(rawValue: node.tag.description) {
            case .null: return .null
            case .bool: return node.bool.map(JSONValue.bool) ?? .string(scalar.string)
            case .int:
                if let integer = Int64(scalar.string) ?? node.int.map(Int64.init) { return .integer(integer) }
                return node.float.map(JSONValue.double) ?? .string(scalar.string)
            case .float:
                guard let double = node.float, double.isFinite else { return .string(scalar.string) }
                return .double(double)
            default:
                // Strings, and timestamps, which Kubernetes keeps as RFC 3339 strings.
                return .string(scalar.string)
            }
        case .sequence(let sequence):
            var elements: [JSONValue] = []
            for element in sequence { elements.append(try jsonValue(element, budget: &budget, depth: depth + 1)) }
            return .array(elements)
        case .mapping(let mapping):
            var members = JSONObject()
            for (key, value) in mapping {
                guard case .scalar(let keyScalar) = key else {
                    throw DocumentParseError(
                        message: "invalid YAML: mapping keys must be strings (line \((key.mark?.line).map(String.init) ?? "?"))")
                }
                members[keyScalar.string] = try jsonValue(value, budget: &budget, depth: depth + 1)
            }
            return .object(members)
        }
    }

    static func node(_ value: JSONValue) -> Node {
        switch value {
        case .null: return Node("null", Tag(.null))
        case .bool(let b): return Node(b ? "true" : "false", Tag(.bool))
        case .integer(let i): return Node(String(i), Tag(.int))
        case .double(let d):
            let text = d.rounded() == d && abs(d) < 1e15 ? String(Int64(d)) : String(d)
            return Node(text, Tag(.float))
        case .string(let s):
            // Quote strings a YAML reader would take for another type ("true", "123", "", timestamps).
            if Node(s).tag.description != Tag.Name.str.rawValue { return .scalar(Node.Scalar(s, Tag(.str), .singleQuoted)) }
            return .scalar(Node.Scalar(s))
        case .array(let elements):
            return .sequence(Node.Sequence(elements.map(node), Tag(.seq), .block))
        case .object(let members):
            let pairs = members.sortedByKey.map { (Node($0.key), node($0.value)) }
            return .mapping(Node.Mapping(pairs, Tag(.map), .block))
        }
    }
}
