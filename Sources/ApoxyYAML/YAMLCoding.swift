import ApoxyAPI
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
            while let node = sequence.next() {
                let value = try jsonValue(node)
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

    /// `value` as a YAML document (keys sorted, two-space indent, strings quoted where YAML would misread them).
    public static func serialize(_ value: JSONValue) -> String {
        // Emitting a tree we built ourselves cannot fail; fall back to JSON (valid YAML) if it ever does.
        (try? Yams.serialize(node: node(value), indent: 2, width: -1, allowUnicode: true, sortKeys: true))
            ?? String(decoding: value.prettySerialized(), as: UTF8.self)
    }

    /// A libyaml error without Swift's enum dump.
    static func describe(_ error: any Error) -> String {
        guard let yamlError = error as? YamlError else { return "\(error)" }
        switch yamlError {
        case .scanner(let context, let problem, let mark, _), .parser(let context, let problem, let mark, _):
            let where_ = "line \(mark.line), column \(mark.column)"
            if let context { return "\(problem) \(context.text) (\(where_))" }
            return "\(problem) (\(where_))"
        case .composer(let context, let problem, let mark, _):
            let where_ = "line \(mark.line), column \(mark.column)"
            if let context { return "\(problem) \(context.text) (\(where_))" }
            return "\(problem) (\(where_))"
        default:
            return "\(yamlError)"
        }
    }

    static func jsonValue(_ node: Node) throws(DocumentParseError) -> JSONValue {
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
            for element in sequence { elements.append(try jsonValue(element)) }
            return .array(elements)
        case .mapping(let mapping):
            var members: [String: JSONValue] = [:]
            for (key, value) in mapping {
                guard case .scalar(let keyScalar) = key else {
                    throw DocumentParseError(message: "invalid YAML: mapping keys must be strings (line \((key.mark?.line).map(String.init) ?? "?"))")
                }
                members[keyScalar.string] = try jsonValue(value)
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
            let pairs = members.sorted { $0.key < $1.key }.map { (Node($0.key), node($0.value)) }
            return .mapping(Node.Mapping(pairs, Tag(.map), .block))
        }
    }
}
