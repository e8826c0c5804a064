import ApoxyAPI

/// Query parameters decoded as Go's url.ParseQuery does (`+` is a space, `%XX` escapes), keeping repeats.
struct QueryParameters: Sendable {
    private(set) var pairs: [(String, String)] = []

    init(_ query: String?) {
        guard let query, !query.isEmpty else { return }
        for part in query.split(separator: "&", omittingEmptySubsequences: true) {
            let keyValue = part.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let key = Self.decode(keyValue[0])
            let value = keyValue.count > 1 ? Self.decode(keyValue[1]) : ""
            pairs.append((key, value))
        }
    }

    /// The first value of `name`.
    subscript(_ name: String) -> String? { pairs.first { $0.0 == name }?.1 }

    /// Every value of `name`.
    func all(_ name: String) -> [String] { pairs.filter { $0.0 == name }.map(\.1) }

    /// A boolean option as kube-apiserver reads one (`runtime.Convert_Slice_string_To_bool`): absent is false,
    /// `0` and `false` in any case are false, and any other value, even an empty one, is true.
    func flag(_ name: String) -> Bool {
        guard let value = self[name] else { return false }
        return !(value == "0" || value.lowercased() == "false")
    }

    /// An optional boolean (`*bool` in kube's options): nil when absent, else as `flag`.
    func optionalFlag(_ name: String) -> Bool? {
        self[name] == nil ? nil : flag(name)
    }

    /// An integer option as kube reads one (`strconv.ParseInt(s, 10, 64)`): nil when absent; a value that does not
    /// parse is 400 naming the parameter, never silently ignored. An empty value counts as absent, as in kube.
    func int64(_ name: String) throws(StatusError) -> Int64? {
        guard let text = self[name], !text.isEmpty else { return nil }
        var digits = Substring(text)
        if digits.first == "+" || digits.first == "-" { digits = digits.dropFirst() }
        guard !digits.isEmpty, digits.allSatisfy(\.isASCII), digits.allSatisfy(\.isNumber) else {
            throw StatusError.badRequest(
                "\(name): Invalid value: \"\(Self.quoted(text))\": strconv.ParseInt: parsing \"\(Self.quoted(text))\": invalid syntax")
        }
        guard let value = Int64(text) else {
            throw StatusError.badRequest(
                "\(name): Invalid value: \"\(Self.quoted(text))\": strconv.ParseInt: parsing \"\(Self.quoted(text))\": value out of range")
        }
        return value
    }

    /// At most 64 bytes of a hostile value, for messages.
    static func quoted(_ text: String) -> String {
        text.utf8.count <= 64 ? text : String(decoding: text.utf8.prefix(64), as: UTF8.self) + "..."
    }

    static func decode(_ text: Substring) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(text.utf8.count)
        var iterator = Array(text.utf8).makeIterator()
        while let byte = iterator.next() {
            switch byte {
            case UInt8(ascii: "+"): bytes.append(0x20)
            case UInt8(ascii: "%"):
                if let high = iterator.next(), let low = iterator.next(), let h = hex(high), let l = hex(low) {
                    bytes.append(h << 4 | l)
                } else {
                    bytes.append(byte)
                }
            default: bytes.append(byte)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    static func hex(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return c - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return c - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return c - UInt8(ascii: "A") + 10
        default: return nil
        }
    }
}
