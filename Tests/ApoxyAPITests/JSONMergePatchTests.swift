import ApoxyAPI
import Testing

private func json(_ text: String) throws -> JSONValue {
    try JSONValue.parse(text)
}

/// One original/patch/result row.
struct MergePatchCase: Sendable, CustomTestStringConvertible {
    var original: String
    var patch: String
    var result: String

    var testDescription: String { "\(original) + \(patch) = \(result)" }
}

/// A pair the diff must turn `from` into `to`.
struct MergeDiffPair: Sendable, CustomTestStringConvertible {
    var from: String
    var to: String

    var testDescription: String { "\(from) -> \(to)" }
}

@Suite("RFC 7386 JSON Merge Patch")
struct JSONMergePatchTests {
    /// RFC 7386 Appendix A, all rows in order.
    static let appendixA: [MergePatchCase] = [
        MergePatchCase(original: #"{"a":"b"}"#, patch: #"{"a":"c"}"#, result: #"{"a":"c"}"#),
        MergePatchCase(original: #"{"a":"b"}"#, patch: #"{"b":"c"}"#, result: #"{"a":"b","b":"c"}"#),
        MergePatchCase(original: #"{"a":"b"}"#, patch: #"{"a":null}"#, result: #"{}"#),
        MergePatchCase(original: #"{"a":"b","b":"c"}"#, patch: #"{"a":null}"#, result: #"{"b":"c"}"#),
        MergePatchCase(original: #"{"a":["b"]}"#, patch: #"{"a":"c"}"#, result: #"{"a":"c"}"#),
        MergePatchCase(original: #"{"a":"c"}"#, patch: #"{"a":["b"]}"#, result: #"{"a":["b"]}"#),
        MergePatchCase(original: #"{"a":{"b":"c"}}"#, patch: #"{"a":{"b":"d","c":null}}"#, result: #"{"a":{"b":"d"}}"#),
        MergePatchCase(original: #"{"a":[{"b":"c"}]}"#, patch: #"{"a":[1]}"#, result: #"{"a":[1]}"#),
        MergePatchCase(original: #"["a","b"]"#, patch: #"["c","d"]"#, result: #"["c","d"]"#),
        MergePatchCase(original: #"{"a":"b"}"#, patch: #"["c"]"#, result: #"["c"]"#),
        MergePatchCase(original: #"{"a":"foo"}"#, patch: "null", result: "null"),
        MergePatchCase(original: #"{"a":"foo"}"#, patch: #""bar""#, result: #""bar""#),
        MergePatchCase(original: #"{"e":null}"#, patch: #"{"a":1}"#, result: #"{"e":null,"a":1}"#),
        MergePatchCase(original: #"[1,2]"#, patch: #"{"a":"b","c":null}"#, result: #"{"a":"b"}"#),
        MergePatchCase(original: #"{}"#, patch: #"{"a":{"bb":{"ccc":null}}}"#, result: #"{"a":{"bb":{}}}"#),
    ]

    @Test("Appendix A has all 15 rows")
    func appendixIsComplete() {
        #expect(Self.appendixA.count == 15)
    }

    @Test("Appendix A examples", arguments: JSONMergePatchTests.appendixA)
    func appendix(_ row: MergePatchCase) throws {
        let result = JSONMergePatch.apply(try json(row.patch), to: try json(row.original))
        #expect(result == (try json(row.result)))
    }

    @Test("section 1 introduction example")
    func introduction() throws {
        let result = JSONMergePatch.apply(
            try json(#"{"a":"z","c":{"f":null}}"#), to: try json(#"{"a":"b","c":{"d":"e","f":"g"}}"#))
        #expect(result == (try json(#"{"a":"z","c":{"d":"e"}}"#)))
    }

    @Test("section 3 example")
    func section3() throws {
        let original = try json(
            #"""
            {
              "title": "Goodbye!",
              "author" : {
                "givenName" : "John",
                "familyName" : "Doe"
              },
              "tags":[ "example", "sample" ],
              "content": "This will be unchanged"
            }
            """#)
        let patch = try json(
            #"""
            {
              "title": "Hello!",
              "phoneNumber": "+01-123-456-7890",
              "author": {
                "familyName": null
              },
              "tags": [ "example" ]
            }
            """#)
        let expected = try json(
            #"""
            {
              "title": "Hello!",
              "author" : {
                "givenName" : "John"
              },
              "tags": [ "example" ],
              "content": "This will be unchanged",
              "phoneNumber": "+01-123-456-7890"
            }
            """#)
        #expect(JSONMergePatch.apply(patch, to: original) == expected)
    }

    @Test("an object patch over an array member replaces it with the patch minus its nulls")
    func objectOverArray() throws {
        let result = JSONMergePatch.apply(try json(#"{"a":{"x":1,"y":null}}"#), to: try json(#"{"a":[1,2],"b":true}"#))
        #expect(result == (try json(#"{"a":{"x":1},"b":true}"#)))
    }

    @Test("deleting a member that is not there changes nothing")
    func deleteAbsent() throws {
        let original = try json(#"{"a":{"b":1}}"#)
        #expect(JSONMergePatch.apply(try json(#"{"x":null,"a":{"y":null}}"#), to: original) == original)
    }

    // MARK: diff

    static let diffPairs: [MergeDiffPair] = [
        MergeDiffPair(from: "{}", to: #"{"a":1}"#),
        MergeDiffPair(from: #"{"a":1,"b":2}"#, to: #"{"a":1}"#),
        MergeDiffPair(from: #"{"a":{"b":{"c":1,"d":2}},"keep":true}"#, to: #"{"a":{"b":{"c":3}},"keep":true}"#),
        MergeDiffPair(from: #"{"a":[1,2]}"#, to: #"{"a":[2,1]}"#),
        MergeDiffPair(from: #"{"a":{"x":1}}"#, to: #"{"a":"scalar"}"#),
        MergeDiffPair(from: #"{"a":"scalar"}"#, to: #"{"a":{"x":{"y":[1]}}}"#),
        MergeDiffPair(from: #"{"a":1}"#, to: #"{"a":1.0}"#),
        MergeDiffPair(from: #"{"e":null,"f":1}"#, to: #"{"e":null,"f":2}"#),
        MergeDiffPair(from: "[1,2]", to: #"{"a":1}"#),
        MergeDiffPair(from: #"{"a":1}"#, to: "[1,2]"),
        MergeDiffPair(from: #"{"a":1}"#, to: #""str""#),
        MergeDiffPair(from: #""x""#, to: "null"),
        MergeDiffPair(from: "null", to: #"{"a":{"b":1}}"#),
        MergeDiffPair(from: #"{"a":1}"#, to: #"{"a":1}"#),
        MergeDiffPair(
            from: #"""
                {"apiVersion":"v1","kind":"Backend","metadata":{"name":"b","labels":{"app":"web","tier":"1"}},
                 "spec":{"endpoints":[{"ip":"10.0.0.1"}],"protocol":"TCP"},"status":{"phase":"Ready"}}
                """#,
            to: #"""
                {"apiVersion":"v1","kind":"Backend","metadata":{"name":"b","labels":{"app":"api"},"annotations":{"a/b":"c"}},
                 "spec":{"endpoints":[{"ip":"10.0.0.1"},{"ip":"10.0.0.2"}],"protocol":"TCP"}}
                """#),
    ]

    @Test("apply(diff(a, b), a) == b", arguments: JSONMergePatchTests.diffPairs)
    func diffRoundTrip(_ pair: MergeDiffPair) throws {
        let from = try json(pair.from)
        let to = try json(pair.to)
        let patch = JSONMergePatch.diff(from: from, to: to)
        #expect(JSONMergePatch.apply(patch, to: from) == to)
    }

    @Test("diff is minimal: unchanged members are left out, removed ones become null")
    func diffShape() throws {
        let patch = JSONMergePatch.diff(
            from: try json(#"{"a":1,"b":{"c":1,"d":2},"same":[1],"gone":"x"}"#),
            to: try json(#"{"a":1,"b":{"c":1},"same":[1],"e":[1]}"#))
        #expect(patch == (try json(#"{"gone":null,"b":{"d":null},"e":[1]}"#)))
        #expect(JSONMergePatch.diff(from: try json(#"{"a":{"b":1}}"#), to: try json(#"{"a":{"b":1}}"#)) == [:])
    }

    @Test("arrays are replaced whole, never merged")
    func diffArraysWhole() throws {
        let patch = JSONMergePatch.diff(from: try json(#"{"a":[1,2,3]}"#), to: try json(#"{"a":[1,2,3,4]}"#))
        #expect(patch == (try json(#"{"a":[1,2,3,4]}"#)))
    }

    @Test("a member set to null cannot be expressed and comes out as a deletion")
    func diffNullLimitation() throws {
        let patch = JSONMergePatch.diff(from: try json(#"{"a":1}"#), to: try json(#"{"a":null}"#))
        #expect(patch == (try json(#"{"a":null}"#)))
        #expect(JSONMergePatch.apply(patch, to: try json(#"{"a":1}"#)) == [:])
    }
}
