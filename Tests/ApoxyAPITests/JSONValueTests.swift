import ApoxyAPI
import Testing

/// Parses `text` (as UTF-8) and returns the document and duplicate paths.
private func parseText(_ text: String, maxDepth: Int = 256) throws(JSONParseError) -> ParsedJSON {
    try JSONValue.parse(Array(text.utf8), maxDepth: maxDepth)
}

/// The parse error for `bytes`, or nil if they parsed.
private func parseFailure(_ bytes: [UInt8], maxDepth: Int = 256) -> JSONParseError? {
    do {
        _ = try JSONValue.parse(bytes, maxDepth: maxDepth)
        return nil
    } catch {
        return error
    }
}

private func parseFailure(_ text: String, maxDepth: Int = 256) -> JSONParseError? {
    parseFailure(Array(text.utf8), maxDepth: maxDepth)
}

private func isInteger(_ value: JSONValue) -> Bool {
    if case .integer = value { return true }
    return false
}

private func isDouble(_ value: JSONValue) -> Bool {
    if case .double = value { return true }
    return false
}

// MARK: - Tables

private let validParseCases: [(String, JSONValue)] = [
    ("null", JSONValue.null), ("true", .bool(true)), ("false", .bool(false)),
    ("0", .integer(0)), ("-0", .integer(0)), ("1", .integer(1)), ("-1", .integer(-1)), ("1234567890", .integer(1_234_567_890)),
    ("9223372036854775807", .integer(.max)), ("-9223372036854775808", .integer(.min)),
    ("1.5", .double(1.5)), ("-0.25", .double(-0.25)), ("1.0", .double(1.0)), ("0.0", .double(0)),
    ("1e2", .double(100)), ("1E2", .double(100)), ("1e+2", .double(100)), ("1e-2", .double(0.01)), ("-1.5e3", .double(-1500)),
    ("2.5E-1", .double(0.25)), ("1e308", .double(1e308)),
    (#""""#, .string("")), (#""abc""#, .string("abc")), (#""h\u00e9llo""#, .string("h\u{e9}llo")),
    ("[]", .array([])), ("{}", .object([:])), ("[1,2,3]", [1, 2, 3]), (#"{"a":1}"#, ["a": 1]),
    (" \t\r\n[ 1 ,\n2 ] \n", [1, 2]), (#"{ "a" : [ true , null ] , "b" : { } }"#, ["a": [true, nil], "b": [:]]),
    (#"[[[]],{"x":[{"y":"z"}]}]"#, [[[]], ["x": [["y": "z"]]]]),
    (#""caf\u00e9 \u20ac \ud83d\ude00""#, .string("caf\u{e9} \u{20ac} \u{1F600}")),
    (#""\ud834\udd1e""#, .string("\u{1D11E}")), (#""\uD834\uDD1E""#, .string("\u{1D11E}")),
    ("\"caf\u{e9} \u{20ac} \u{1F600}\"", .string("caf\u{e9} \u{20ac} \u{1F600}")),
    ("\"\u{7F}\"", .string("\u{7F}")),
]

private let duplicateKeyCases: [(String, [String], JSONValue)] = [
    (#"{"a":1,"a":2}"#, ["a"], JSONValue.object(["a": 2])),
    (#"{"spec":{"protocol":"tls","protocol":"h2"}}"#, ["spec.protocol"], ["spec": ["protocol": "h2"]]),
    (
        #"{"spec":{"endpoints":[{"ip":"10.0.0.1","ip":"10.0.0.2"}]}}"#, ["spec.endpoints[0].ip"],
        ["spec": ["endpoints": [["ip": "10.0.0.2"]]]]
    ),
    (
        #"{"spec":{"endpoints":[{"fqdn":"a"},{"ip":"1","ip":"2"}]}}"#, ["spec.endpoints[1].ip"],
        ["spec": ["endpoints": [["fqdn": "a"], ["ip": "2"]]]]
    ),
    (#"[{"a":1,"a":1}]"#, ["[0].a"], [["a": 1]]),
    (#"{"a":{"x":1},"a":{"y":2}}"#, ["a"], ["a": ["y": 2]]),
    (#"{"a":1,"a":2,"a":3}"#, ["a", "a"], ["a": 3]),
    (#"{"m":{"k":[[{"z":0,"z":1}]]}}"#, ["m.k[0][0].z"], ["m": ["k": [[["z": 1]]]]]),
]

private let compactCases: [(JSONValue, String)] = [
    (JSONValue.null, "null"), (.bool(true), "true"), (.bool(false), "false"), (.integer(0), "0"), (.integer(-12), "-12"),
    (.integer(.max), "9223372036854775807"), (.integer(.min), "-9223372036854775808"),
    (.double(1.5), "1.5"), (.double(-0.25), "-0.25"), (.double(2.0), "2"), (.double(-3.0), "-3"),
    (.string(""), #""""#), (.string("abc"), #""abc""#), (.array([]), "[]"), (.object([:]), "{}"),
    ([1, "a", nil, true], #"[1,"a",null,true]"#),
    (["b": 1, "a": 2, "c": ["z": 1, "y": [2, 3]]], #"{"a":2,"b":1,"c":{"y":[2,3],"z":1}}"#),
    (
        ["spec": [:], "metadata": [:], "kind": "Backend", "apiVersion": "v", "status": [:]],
        #"{"apiVersion":"v","kind":"Backend","metadata":{},"spec":{},"status":{}}"#
    ),
    (["B": 1, "a": 2, "_": 3, "1": 4], #"{"1":4,"B":1,"_":3,"a":2}"#),
]

private let roundTripCases: [JSONValue] = [
    JSONValue.null, 1, -1, 1.5, 1e20, 1e-7, .double(.leastNonzeroMagnitude), 1.7976931348623157e308, 0.1, "x", [1, [2, [3]]],
    [
        "apiVersion": "core.apoxy.dev/v1alpha2", "kind": "Backend", "metadata": ["name": "a", "labels": ["k": "v"]],
        "spec": [
            "endpoints": [["fqdn": "a.io"], ["ip": "::1"]], "protocol": "h2", "dynamicProxy": ["dnsCacheConfig": ["maxHosts": 1024]],
        ],
    ],
    ["weird key \"\\/\n": ["\u{0}": nil]],
]

private let typeNameCases: [(JSONValue, String)] = [
    (JSONValue.null, "null"), (.bool(true), "boolean"), (.integer(1), "integer"), (.double(1.5), "number"), (.string(""), "string"),
    (.array([]), "array"), (.object([:]), "object"),
]

// MARK: - Parser: valid input

@Suite("JSON parser: valid RFC 8259 text")
struct JSONParserValidTests {
    @Test(
        "scalars, arrays and objects parse to the expected value",
        arguments: validParseCases)
    func valid(text: String, expected: JSONValue) throws {
        let parsed = try parseText(text)
        #expect(parsed.value == expected)
        #expect(parsed.duplicateFields.isEmpty)
        #expect(try JSONValue.parse(text) == expected)
    }

    @Test(
        "every simple escape decodes",
        arguments: [
            (#""\"""#, "\""), (#""\\""#, "\\"), (#""\/""#, "/"), (#""\b""#, "\u{08}"), (#""\f""#, "\u{0C}"), (#""\n""#, "\n"),
            (#""\r""#, "\r"), (#""\t""#, "\t"), (#""\u0000""#, "\u{0}"), (#""\u001f""#, "\u{1F}"), (#""\u0041\u0062""#, "Ab"),
            (#""a\"b\\c\/d\n""#, "a\"b\\c/d\n"), (#""\u00E9""#, "\u{e9}"), (#""\uFFFF""#, "\u{FFFF}"),
        ])
    func escapes(text: String, expected: String) throws {
        #expect(try JSONValue.parse(text) == .string(expected))
    }

    @Test(
        "lone surrogates decode to U+FFFD as Go's encoding/json does",
        arguments: [
            (#""\ud800""#, "\u{FFFD}"), (#""\udc00""#, "\u{FFFD}"), (#""\ud800x""#, "\u{FFFD}x"),
            (#""\udfff\ud83d\ude00""#, "\u{FFFD}\u{1F600}"),
            (#""\ud800\n""#, "\u{FFFD}\n"),
        ])
    func loneSurrogates(text: String, expected: String) throws {
        #expect(try JSONValue.parse(text) == .string(expected))
    }

    /// RFC 8259's grammar accepts any `\uXXXX`; Go decodes a high surrogate followed by a non-low-surrogate escape as
    /// U+FFFD and then the second escape on its own.
    @Test(
        "a high surrogate followed by an escape that is not a low surrogate is still valid JSON",
        arguments: [(#""\ud800\u0041""#, "\u{FFFD}A"), (#""\ud800\ud800""#, "\u{FFFD}\u{FFFD}"), (#""\ud83d\u00e9""#, "\u{FFFD}\u{e9}")])
    func highSurrogateThenOtherEscape(text: String, expected: String) {
        #expect(throws: Never.self) { try JSONValue.parse(text) }
        #expect((try? JSONValue.parse(text)) == .string(expected))
    }

    @Test("integers that fit Int64 stay integers; fractions and exponents make doubles")
    func integersVersusDoubles() throws {
        #expect(isInteger(try JSONValue.parse("42")))
        #expect(isInteger(try JSONValue.parse("-42")))
        #expect(isDouble(try JSONValue.parse("42.0")))
        #expect(isDouble(try JSONValue.parse("42e0")))
        #expect(isDouble(try JSONValue.parse("4.2e1")))
    }

    @Test(
        "integers beyond Int64 become doubles",
        arguments: [
            ("9223372036854775808", 9_223_372_036_854_775_808.0), ("-9223372036854775809", -9_223_372_036_854_775_809.0),
            ("18446744073709551616", 18_446_744_073_709_551_616.0), ("123456789012345678901234567890", 1.2345678901234568e29),
        ])
    func int64Overflow(text: String, expected: Double) throws {
        let value = try JSONValue.parse(text)
        #expect(value == .double(expected))
    }

    @Test("integerValue reads integral doubles only")
    func integerValue() {
        #expect(JSONValue.integer(7).integerValue == 7)
        #expect(JSONValue.double(2.0).integerValue == 2)
        #expect(JSONValue.double(-3.0).integerValue == -3)
        #expect(JSONValue.double(2.5).integerValue == nil)
        #expect(JSONValue.double(1e19).integerValue == nil)
        #expect(JSONValue.string("1").integerValue == nil)
    }

    @Test("a deeply nested but allowed document parses", arguments: [1, 2, 255, 256])
    func depthAllowed(depth: Int) throws {
        let arrays = String(repeating: "[", count: depth) + String(repeating: "]", count: depth)
        #expect(throws: Never.self) { try parseText(arrays) }
        let objects = String(repeating: #"{"a":"#, count: depth) + "1" + String(repeating: "}", count: depth)
        #expect(throws: Never.self) { try parseText(objects) }
    }
}

// MARK: - Parser: invalid input

@Suite("JSON parser: invalid text")
struct JSONParserInvalidTests {
    @Test(
        "text that is not RFC 8259 JSON is rejected",
        arguments: [
            "", " ", "\n", "{", "}", "[", "]", "[1,]", "[,1]", "[1,,2]", "[1 2]", "[1]]", #"{"a":1,}"#, #"{"a" 1}"#, #"{"a"}"#, "{,}",
            "{a:1}", "{'a':1}", "'a'", #"{"a":1 "b":2}"#, "{1:2}", "01", "00", "-01", "-", "+1", ".5", "1.", "-.5", "1e", "1e+", "1E-",
            "0x10", "1_000", "NaN", "Infinity", "-Infinity", "tru", "trUe", "True", "nul", "NULL", "falsey", #""abc"#, #""\x""#,
            #""\u12""#, #""\u12G4""#, #""\U0041""#, #""\'""#, "\"a\tb\"", "\"a\nb\"", "\"\u{01}\"", "1 2", "{}{}", "[] []",
            "1e400", "-1e400", "\u{FEFF}{}", "/* c */ 1", "// c\n1", #"{"a":1}x"#, "\u{00A0}1", #""\ud800\udc0""#,
        ])
    func invalid(text: String) {
        #expect(parseFailure(text) != nil)
        #expect(throws: JSONParseError.self) { try JSONValue.parse(text) }
    }

    @Test(
        "invalid UTF-8 inside strings is rejected",
        arguments: [
            [UInt8(0x22), 0xFF, 0x22], [0x22, 0xC0, 0xAF, 0x22], [0x22, 0xED, 0xA0, 0x80, 0x22], [0x22, 0xE2, 0x82, 0x22],
            [0x22, 0x5C, 0x6E, 0xFE, 0x22],
        ])
    func invalidUTF8(bytes: [UInt8]) {
        #expect(parseFailure(bytes)?.message == "invalid UTF-8 in string")
    }

    @Test(
        "errors carry Go-like messages and the offset where parsing stopped",
        arguments: [
            ("", "unexpected end of JSON input", 0),
            ("[1,]", "invalid character ']' looking for beginning of value", 3),
            ("1 2", "invalid character after top-level value", 2),
            (#"{"a":1,}"#, "looking for beginning of object key string", 7),
            (#"{"a" 1}"#, "after object key: expected ':'", 5),
            ("[1 2]", "after array element: expected ',' or ']'", 3),
            (#"{"a":1 "b":2}"#, "after object key:value pair: expected ',' or '}'", 7),
            ("\"a\nb\"", "invalid control character in string literal", 2),
            (#""\x""#, "invalid escape in string literal", 3),
            ("1e400", "number 1e400 out of range", 5),
            ("[1,", "unexpected end of JSON input", 3),
        ])
    func messages(text: String, message: String, offset: Int) throws {
        let error = try #require(parseFailure(text))
        #expect(error.message == message)
        #expect(error.offset == offset)
        #expect(error.description == "\(message) at offset \(offset)")
    }

    @Test("nesting deeper than maxDepth is rejected, not a crash", arguments: [257, 1_000, 100_000])
    func tooDeep(depth: Int) throws {
        let arrays = String(repeating: "[", count: depth) + String(repeating: "]", count: depth)
        let error = try #require(parseFailure(arrays))
        #expect(error.message == "exceeded max depth of 256")
        let objects = String(repeating: #"{"a":"#, count: depth) + "1" + String(repeating: "}", count: depth)
        #expect(parseFailure(objects)?.message == "exceeded max depth of 256")
    }

    @Test("a custom maxDepth is honoured for arrays and objects")
    func customDepth() {
        #expect(parseFailure("[[1]]", maxDepth: 2) == nil)
        #expect(parseFailure("[[[1]]]", maxDepth: 2)?.message == "exceeded max depth of 2")
        #expect(parseFailure(#"{"a":{"b":1}}"#, maxDepth: 2) == nil)
        #expect(parseFailure(#"{"a":[{"b":1}]}"#, maxDepth: 2)?.message == "exceeded max depth of 2")
        #expect(parseFailure("1", maxDepth: 0) == nil)
        #expect(parseFailure("[]", maxDepth: 0) != nil)
    }

    @Test("depth is counted per nesting level, not per container seen")
    func siblingsDoNotAccumulate() {
        let siblings = "[" + Array(repeating: "[[]]", count: 500).joined(separator: ",") + "]"
        #expect(parseFailure(siblings, maxDepth: 3) == nil)
    }
}

// MARK: - Duplicate keys

@Suite("JSON parser: duplicate keys")
struct JSONDuplicateKeyTests {
    @Test(
        "repeated keys are reported as field paths; the last value wins",
        arguments: duplicateKeyCases)
    func duplicates(text: String, paths: [String], value: JSONValue) throws {
        let parsed = try parseText(text)
        #expect(parsed.duplicateFields == paths)
        #expect(parsed.value == value)
    }

    @Test("the same key in different objects is not a duplicate")
    func notDuplicates() throws {
        let parsed = try parseText(#"{"a":{"x":1},"b":{"x":2},"c":[{"x":1},{"x":2}],"x":0}"#)
        #expect(parsed.duplicateFields.isEmpty)
    }

    @Test("keys differing only in case are distinct")
    func caseSensitive() throws {
        let parsed = try parseText(#"{"a":1,"A":2}"#)
        #expect(parsed.duplicateFields.isEmpty)
        #expect(parsed.value == ["a": 1, "A": 2])
    }

    /// RFC 8259 section 8.3: names compare code unit by code unit, so U+00E9 and "e" + U+0301 are different names.
    @Test("keys that are canonically equivalent but differ in code points are distinct members")
    func canonicallyEquivalentKeys() throws {
        let parsed = try parseText(#"{"\u00e9":1,"e\u0301":2}"#)
        // Go keeps them apart too; Swift's String equality (canonical equivalence) alone would merge them.
        #expect(parsed.duplicateFields.isEmpty)
        #expect(parsed.value.objectValue?.count == 2)
        #expect(parsed.value["\u{E9}"] == 1 && parsed.value["e\u{301}"] == 2)
        // Both survive a round trip, in byte order (0x65 "e" before 0xC3), as Go's encoder writes them.
        #expect(parsed.value.jsonString == "{\"e\u{301}\":2,\"\u{E9}\":1}")
        #expect(try parseText(parsed.value.jsonString).value == parsed.value)
        // And a real duplicate (the same bytes, however escaped) is still one.
        #expect(try parseText(#"{"\u00e9":1,"\u00e9":2}"#).duplicateFields.count == 1)
    }

    @Test("escaped and literal spellings of one key are the same key")
    func escapedKeyIsSameKey() throws {
        let parsed = try parseText(#"{"a":1,"\u0061":2}"#)
        #expect(parsed.duplicateFields == ["a"])
        #expect(parsed.value == ["a": 2])
    }
}

// MARK: - Serializer

@Suite("JSON serializer")
struct JSONSerializerTests {
    @Test(
        "compact output with sorted keys",
        arguments: compactCases)
    func compact(value: JSONValue, text: String) {
        #expect(value.jsonString == text)
        #expect(value.serialized() == Array(text.utf8))
    }

    @Test(
        "strings are escaped so they parse back",
        arguments: [
            ("\"", #""\"""#), ("\\", #""\\""#), ("\n", #""\n""#), ("\r", #""\r""#), ("\t", #""\t""#), ("\u{0}", #""\u0000""#),
            ("\u{1F}", #""\u001f""#), ("\u{08}", #""\u0008""#), ("\u{0C}", #""\u000c""#), ("/", #""/""#), ("\u{7F}", "\"\u{7F}\""),
            ("caf\u{e9}", "\"caf\u{e9}\""), ("\u{1F600}", "\"\u{1F600}\""), ("a\"b\\c", #""a\"b\\c""#),
        ])
    func escaping(string: String, text: String) {
        #expect(JSONValue.string(string).jsonString == text)
    }

    @Test("every ASCII character and some non-ASCII text round-trip through serialize and parse")
    func stringRoundTrip() throws {
        var all = ""
        for scalar in 0..<0x80 { all.unicodeScalars.append(Unicode.Scalar(UInt8(scalar))) }
        all += "\u{e9}\u{20ac}\u{1F600}\u{2028}\u{2029}\u{FFFD}e\u{301}"
        let value = JSONValue.string(all)
        let back = try JSONValue.parse(value.serialized()).value
        #expect(back == value)
        #expect(back.stringValue?.unicodeScalars.elementsEqual(all.unicodeScalars) == true)
    }

    @Test(
        "documents round-trip: parse(serialize(v)) is v",
        arguments: roundTripCases)
    func roundTrip(value: JSONValue) throws {
        let parsed = try JSONValue.parse(value.serialized())
        #expect(parsed.value == value)
        #expect(parsed.duplicateFields.isEmpty)
        let pretty = try JSONValue.parse(value.prettySerialized())
        #expect(pretty.value == value)
    }

    @Test("an integral double serialises as an integer and parses back semantically equal")
    func integralDouble() throws {
        let back = try JSONValue.parse(JSONValue.double(1024).serialized()).value
        #expect(back == .integer(1024))
        #expect(back.semanticallyEquals(.double(1024)))
    }

    @Test("serialisation does not depend on insertion order")
    func orderIndependent() {
        var a: [String: JSONValue] = [:]
        var b: [String: JSONValue] = [:]
        let keys = (0..<50).map { "key\($0)" }
        for key in keys { a[key] = .string(key) }
        for key in keys.reversed() { b[key] = .string(key) }
        #expect(JSONValue.object(a).serialized() == JSONValue.object(b).serialized())
    }

    @Test("pretty output indents by two spaces and ends with a newline")
    func pretty() {
        let value: JSONValue = ["b": [:], "a": [1, 2], "c": []]
        let expected = "{\n  \"a\": [\n    1,\n    2\n  ],\n  \"b\": {},\n  \"c\": []\n}\n"
        #expect(String(decoding: value.prettySerialized(), as: UTF8.self) == expected)
    }
}

// MARK: - JSONValue helpers

@Suite("JSONValue")
struct JSONValueHelperTests {
    @Test("literals build the matching cases")
    func literals() {
        let value: JSONValue = ["s": "x", "i": 1, "d": 1.5, "b": true, "n": nil, "a": [1], "o": ["k": "v"]]
        #expect(
            value
                == .object([
                    "s": .string("x"), "i": .integer(1), "d": .double(1.5), "b": .bool(true), "n": .null, "a": .array([.integer(1)]),
                    "o": .object(["k": .string("v")]),
                ]))
    }

    @Test("typeName names the JSON type", arguments: typeNameCases)
    func typeName(value: JSONValue, name: String) {
        #expect(value.typeName == name)
    }

    @Test("accessors return nil for other types")
    func accessors() {
        let object: JSONValue = ["a": 1]
        #expect(object.objectValue == ["a": 1])
        #expect(object.arrayValue == nil)
        #expect(object.stringValue == nil)
        #expect(object.boolValue == nil)
        #expect(!object.isNull)
        #expect(JSONValue.null.isNull)
        #expect(JSONValue.array([1]).arrayValue == [1])
        #expect(JSONValue.bool(false).boolValue == false)
        #expect(JSONValue.string("s").stringValue == "s")
        #expect(object["a"] == 1)
        #expect(object["missing"] == nil)
        #expect(JSONValue.array([1])["a"] == nil)
    }

    @Test("subscript assignment sets and removes members of objects and ignores other types")
    func subscriptSet() {
        var object: JSONValue = ["a": 1]
        object["b"] = "x"
        #expect(object == ["a": 1, "b": "x"])
        object["a"] = nil
        #expect(object == ["b": "x"])
        var array: JSONValue = [1]
        array["a"] = 2
        #expect(array == [1])
    }

    @Test("semantic equality compares numbers by value and ignores key order only")
    func semanticEquality() {
        #expect(JSONValue.integer(1).semanticallyEquals(.double(1.0)))
        #expect(JSONValue.double(1.0).semanticallyEquals(.integer(1)))
        #expect(!JSONValue.integer(1).semanticallyEquals(.double(1.5)))
        #expect(JSONValue.object(["a": 1, "b": [1.0]]).semanticallyEquals(["b": [1], "a": 1.0]))
        #expect(!JSONValue.array([1, 2]).semanticallyEquals([2, 1]))
        #expect(!JSONValue.object(["a": 1]).semanticallyEquals(["a": 1, "b": 2]))
        #expect(!JSONValue.string("1").semanticallyEquals(1))
        #expect(!JSONValue.null.semanticallyEquals(false))
    }
}
