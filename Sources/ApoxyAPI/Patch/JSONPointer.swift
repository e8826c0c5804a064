/// An RFC 6901 JSON Pointer.
public struct JSONPointer: Sendable, Hashable {
    /// The unescaped reference tokens; empty for the whole document.
    public var tokens: [String]

    /// Parses pointer text such as `/spec/ports/0` or `/metadata/annotations/a~1b`; `""` is the whole document.
    public init(_ text: String) throws(JSONPatchError) {
        guard !text.isEmpty else {
            tokens = []
            return
        }
        guard text.hasPrefix("/") else {
            throw JSONPatchError(kind: .invalidDocument, message: "invalid JSON pointer \"\(text)\": must be empty or start with \"/\"")
        }
        var tokens: [String] = []
        for raw in text.utf8.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: false).dropFirst() {
            guard let token = Self.unescape(raw) else {
                throw JSONPatchError(
                    kind: .invalidDocument,
                    message: "invalid JSON pointer \"\(text)\": \"~\" must be followed by \"0\" or \"1\""
                )
            }
            tokens.append(token)
        }
        self.tokens = tokens
    }

    /// A pointer made of already unescaped tokens.
    init(tokens: [String]) {
        self.tokens = tokens
    }

    /// The pointer in its escaped text form, as written in patches and error messages.
    var text: String {
        var result = ""
        for token in tokens {
            result += "/"
            // "~" must be escaped first, or the "~" introduced by "~1" would itself be escaped (RFC 6901 section 4).
            result += token.replacing("~", with: "~0").replacing("/", with: "~1")
        }
        return result
    }

    /// Whether `self` is a strict ancestor of `other`, i.e. `other` lies inside the value `self` points to.
    func isProperPrefix(of other: JSONPointer) -> Bool {
        tokens.count < other.tokens.count && other.tokens.starts(with: tokens)
    }

    /// Decodes `~1` then `~0` in a single left-to-right pass, so `~01` becomes `~1` and not `/`.
    private static func unescape(_ raw: Substring.UTF8View) -> String? {
        guard raw.contains(UInt8(ascii: "~")) else { return String(decoding: raw, as: UTF8.self) }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(raw.count)
        var iterator = raw.makeIterator()
        while let byte = iterator.next() {
            guard byte == UInt8(ascii: "~") else {
                bytes.append(byte)
                continue
            }
            switch iterator.next() {
            case UInt8(ascii: "0"): bytes.append(UInt8(ascii: "~"))
            case UInt8(ascii: "1"): bytes.append(UInt8(ascii: "/"))
            default: return nil
            }
        }
        // Splitting valid UTF-8 on an ASCII byte and replacing ASCII sequences keeps it valid.
        return String(decoding: bytes, as: UTF8.self)
    }

    /// The array index a token names, per RFC 6901: `0` or digits without a leading zero; nil otherwise.
    static func arrayIndex(_ token: String) -> Int? {
        let utf8 = token.utf8
        guard let first = utf8.first, utf8.allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }) else {
            return nil
        }
        if first == UInt8(ascii: "0") && utf8.count > 1 { return nil }
        return Int(token)  // nil on overflow: such an index cannot exist anyway
    }
}

extension JSONPointer: CustomStringConvertible {
    /// The escaped pointer text.
    public var description: String { text }
}
