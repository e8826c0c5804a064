import ApoxyAPI
import Testing

private func json(_ text: String) throws -> JSONValue {
    try JSONValue.parse(text)
}

/// Parses `document` and `patch`, applies the patch and returns the result.
private func applyPatch(_ patch: String, to document: String) throws -> JSONValue {
    try JSONPatch(json(patch)).apply(to: json(document))
}

/// The error a patch fails with, or nil if it applied.
private func patchError(_ patch: String, to document: String) throws -> JSONPatchError? {
    let decoded = try JSONPatch(json(patch))
    let target = try json(document)
    do throws(JSONPatchError) {
        _ = try decoded.apply(to: target)
        return nil
    } catch {
        return error
    }
}

/// The error decoding a patch fails with, or nil if it decoded.
private func decodeError(_ patch: String) throws -> JSONPatchError? {
    let document = try json(patch)
    do throws(JSONPatchError) {
        _ = try JSONPatch(document)
        return nil
    } catch {
        return error
    }
}

@Suite("RFC 6902 Appendix A")
struct RFC6902AppendixTests {
    @Test("A.1 adding an object member")
    func addObjectMember() throws {
        let result = try applyPatch(#"[{ "op": "add", "path": "/baz", "value": "qux" }]"#, to: #"{ "foo": "bar" }"#)
        #expect(result == (try json(#"{ "baz": "qux", "foo": "bar" }"#)))
    }

    @Test("A.2 adding an array element")
    func addArrayElement() throws {
        let result = try applyPatch(
            #"[{ "op": "add", "path": "/foo/1", "value": "qux" }]"#, to: #"{ "foo": [ "bar", "baz" ] }"#)
        #expect(result == (try json(#"{ "foo": [ "bar", "qux", "baz" ] }"#)))
    }

    @Test("A.3 removing an object member")
    func removeObjectMember() throws {
        let result = try applyPatch(#"[{ "op": "remove", "path": "/baz" }]"#, to: #"{ "baz": "qux", "foo": "bar" }"#)
        #expect(result == (try json(#"{ "foo": "bar" }"#)))
    }

    @Test("A.4 removing an array element")
    func removeArrayElement() throws {
        let result = try applyPatch(#"[{ "op": "remove", "path": "/foo/1" }]"#, to: #"{ "foo": [ "bar", "qux", "baz" ] }"#)
        #expect(result == (try json(#"{ "foo": [ "bar", "baz" ] }"#)))
    }

    @Test("A.5 replacing a value")
    func replaceValue() throws {
        let result = try applyPatch(
            #"[{ "op": "replace", "path": "/baz", "value": "boo" }]"#, to: #"{ "baz": "qux", "foo": "bar" }"#)
        #expect(result == (try json(#"{ "baz": "boo", "foo": "bar" }"#)))
    }

    @Test("A.6 moving a value")
    func moveValue() throws {
        let result = try applyPatch(
            #"[{ "op": "move", "from": "/foo/waldo", "path": "/qux/thud" }]"#,
            to: #"{ "foo": { "bar": "baz", "waldo": "fred" }, "qux": { "corge": "grault" } }"#)
        #expect(result == (try json(#"{ "foo": { "bar": "baz" }, "qux": { "corge": "grault", "thud": "fred" } }"#)))
    }

    @Test("A.7 moving an array element")
    func moveArrayElement() throws {
        let result = try applyPatch(
            #"[{ "op": "move", "from": "/foo/1", "path": "/foo/3" }]"#, to: #"{ "foo": [ "all", "grass", "cows", "eat" ] }"#)
        #expect(result == (try json(#"{ "foo": [ "all", "cows", "eat", "grass" ] }"#)))
    }

    @Test("A.8 testing a value: success")
    func testSuccess() throws {
        let document = #"{ "baz": "qux", "foo": [ "a", 2, "c" ] }"#
        let result = try applyPatch(
            #"[{ "op": "test", "path": "/baz", "value": "qux" }, { "op": "test", "path": "/foo/1", "value": 2 }]"#,
            to: document)
        #expect(result == (try json(document)))
    }

    @Test("A.9 testing a value: error")
    func testFailure() throws {
        let error = try patchError(#"[{ "op": "test", "path": "/baz", "value": "bar" }]"#, to: #"{ "baz": "qux" }"#)
        #expect(error?.kind == .applyFailed)
        #expect(error?.message == "testing value /baz failed: test failed")
    }

    @Test("A.10 adding a nested member object")
    func addNestedMember() throws {
        let result = try applyPatch(
            #"[{ "op": "add", "path": "/child", "value": { "grandchild": { } } }]"#, to: #"{ "foo": "bar" }"#)
        #expect(result == (try json(#"{ "foo": "bar", "child": { "grandchild": { } } }"#)))
    }

    @Test("A.11 ignoring unrecognized elements")
    func ignoreUnrecognizedElements() throws {
        let result = try applyPatch(
            #"[{ "op": "add", "path": "/baz", "value": "qux", "xyz": 123 }]"#, to: #"{ "foo": "bar" }"#)
        #expect(result == (try json(#"{ "foo": "bar", "baz": "qux" }"#)))
    }

    @Test("A.12 adding to a nonexistent target")
    func addToNonexistentTarget() throws {
        let error = try patchError(#"[{ "op": "add", "path": "/baz/bat", "value": "qux" }]"#, to: #"{ "foo": "bar" }"#)
        #expect(error?.kind == .applyFailed)
        #expect(error?.message == #"add operation does not apply: doc is missing path: "/baz/bat""#)
    }

    // A.13 (an operation repeating "op") is rejected while parsing the request body, not by the patch engine:
    // the parser reports the duplicate so the server can refuse it.
    @Test("A.13 invalid JSON patch document: the duplicate member is reported by the parser")
    func duplicateOpIsReported() throws {
        let parsed = try JSONValue.parse(Array(#"[{ "op": "add", "path": "/baz", "value": "qux", "op": "remove" }]"#.utf8))
        #expect(parsed.duplicateFields == ["[0].op"])
    }

    @Test("A.14 ~ escape ordering")
    func escapeOrdering() throws {
        let document = #"{ "/": 9, "~1": 10 }"#
        let result = try applyPatch(#"[{ "op": "test", "path": "/~01", "value": 10 }]"#, to: document)
        #expect(result == (try json(document)))
    }

    @Test("A.15 comparing strings and numbers")
    func compareStringAndNumber() throws {
        let error = try patchError(#"[{ "op": "test", "path": "/~01", "value": "10" }]"#, to: #"{ "/": 9, "~1": 10 }"#)
        #expect(error?.kind == .applyFailed)
        #expect(error?.message == "testing value /~01 failed: test failed")
    }

    @Test("A.16 adding an array value")
    func addArrayValue() throws {
        let result = try applyPatch(
            #"[{ "op": "add", "path": "/foo/-", "value": ["abc", "def"] }]"#, to: #"{ "foo": ["bar"] }"#)
        #expect(result == (try json(#"{ "foo": ["bar", ["abc", "def"]] }"#)))
    }
}

@Suite("JSON Pointer")
struct JSONPointerTests {
    @Test("parses and unescapes tokens")
    func tokens() throws {
        #expect(try JSONPointer("").tokens == [])
        #expect(try JSONPointer("/").tokens == [""])
        #expect(try JSONPointer("/a/b").tokens == ["a", "b"])
        #expect(try JSONPointer("/a~1b/m~0n").tokens == ["a/b", "m~n"])
        #expect(try JSONPointer("/~01").tokens == ["~1"])
        #expect(try JSONPointer("/a//b/").tokens == ["a", "", "b", ""])
        #expect(try JSONPointer("/ünï/ç").tokens == ["ünï", "ç"])
    }

    @Test("renders back the same escaped text")
    func rendersText() throws {
        for text in ["", "/", "/a~1b/m~0n", "/~01", "/a//b/"] {
            #expect(try JSONPointer(text).description == text)
        }
    }

    @Test("rejects text without a leading slash or with a bad escape", arguments: ["a", "a/b", "/~", "/a~2", "/~a"])
    func rejects(text: String) {
        let error = #expect(throws: JSONPatchError.self) { try JSONPointer(text) }
        #expect(error?.kind == .invalidDocument)
    }

    @Test("the empty pointer is the whole document")
    func rootPointer() throws {
        #expect(try applyPatch(#"[{"op":"replace","path":"","value":[1]}]"#, to: #"{"a":1}"#) == [1])
        #expect(try applyPatch(#"[{"op":"add","path":"","value":"x"}]"#, to: "null") == "x")
        #expect(try applyPatch(#"[{"op":"test","path":"","value":{"a":1.0}}]"#, to: #"{"a":1}"#) == ["a": 1])
        #expect(try patchError(#"[{"op":"remove","path":""}]"#, to: #"{"a":1}"#)?.kind == .applyFailed)
    }

    @Test("an empty token is an ordinary key")
    func emptyKey() throws {
        #expect(try applyPatch(#"[{"op":"add","path":"/","value":1}]"#, to: "{}") == ["": 1])
    }
}

@Suite("JSON Patch operations")
struct JSONPatchOperationTests {
    @Test("add at index == count appends; add replaces an existing member")
    func addEdges() throws {
        #expect(try applyPatch(#"[{"op":"add","path":"/a/2","value":3}]"#, to: #"{"a":[1,2]}"#) == ["a": [1, 2, 3]])
        #expect(try applyPatch(#"[{"op":"add","path":"/a/0","value":0}]"#, to: #"{"a":[1]}"#) == ["a": [0, 1]])
        #expect(try applyPatch(#"[{"op":"add","path":"/a","value":2}]"#, to: #"{"a":1}"#) == ["a": 2])
        #expect(try applyPatch(#"[{"op":"add","path":"/a","value":null}]"#, to: "{}") == ["a": nil])
    }

    @Test(
        "array indexes with leading zeros, signs, past the end or non-numeric are errors",
        arguments: [
            #"[{"op":"add","path":"/a/01","value":0}]"#,
            #"[{"op":"add","path":"/a/3","value":0}]"#,
            #"[{"op":"add","path":"/a/-1","value":0}]"#,
            #"[{"op":"add","path":"/a/x","value":0}]"#,
            #"[{"op":"add","path":"/a/99999999999999999999999","value":0}]"#,
            #"[{"op":"remove","path":"/a/2"}]"#,
            #"[{"op":"remove","path":"/a/-"}]"#,
            #"[{"op":"remove","path":"/a/00"}]"#,
            #"[{"op":"replace","path":"/a/2","value":0}]"#,
            #"[{"op":"replace","path":"/a/-","value":0}]"#,
            #"[{"op":"test","path":"/a/01","value":2}]"#,
            #"[{"op":"copy","from":"/a/5","path":"/b"}]"#,
            #"[{"op":"move","from":"/a/+1","path":"/b"}]"#,
        ])
    func badIndexes(patch: String) throws {
        let error = try patchError(patch, to: #"{"a":[1,2]}"#)
        #expect(error?.kind == .applyFailed)
    }

    @Test("index errors name the token and path")
    func indexMessage() throws {
        let error = try patchError(#"[{"op":"add","path":"/a/01","value":0}]"#, to: #"{"a":[1,2]}"#)
        #expect(error?.message == #"add operation does not apply: invalid array index "01" in path "/a/01""#)
    }

    @Test("remove and replace need the target to exist")
    func missingTargets() throws {
        let remove = try patchError(#"[{"op":"remove","path":"/x"}]"#, to: #"{"a":1}"#)
        #expect(remove?.kind == .applyFailed)
        #expect(remove?.message == #"remove operation does not apply: doc is missing path: "/x""#)

        let replace = try patchError(#"[{"op":"replace","path":"/spec/foo","value":1}]"#, to: #"{"spec":{}}"#)
        #expect(replace?.kind == .applyFailed)
        #expect(replace?.message == "replace operation does not apply: doc is missing key: /spec/foo")

        let deep = try patchError(#"[{"op":"add","path":"/a/b/c","value":1}]"#, to: #"{"a":{}}"#)
        #expect(deep?.message == #"add operation does not apply: doc is missing path: "/a/b/c""#)

        let throughScalar = try patchError(#"[{"op":"add","path":"/a/b","value":1}]"#, to: #"{"a":"str"}"#)
        #expect(throughScalar?.kind == .applyFailed)
    }

    @Test("replace of an array element and of a nested member")
    func replaceWorks() throws {
        #expect(try applyPatch(#"[{"op":"replace","path":"/a/1","value":"x"}]"#, to: #"{"a":[1,2,3]}"#) == ["a": [1, "x", 3]])
        #expect(
            try applyPatch(#"[{"op":"replace","path":"/spec/ports/0/port","value":8080}]"#, to: #"{"spec":{"ports":[{"port":80}]}}"#)
                == ["spec": ["ports": [["port": 8080]]]])
    }

    @Test("move refuses to move a value into its own child")
    func moveIntoChild() throws {
        let error = try patchError(#"[{"op":"move","from":"/a","path":"/a/b"}]"#, to: #"{"a":{"b":1}}"#)
        #expect(error?.kind == .applyFailed)
        let root = try patchError(#"[{"op":"move","from":"","path":"/a"}]"#, to: #"{"a":{}}"#)
        #expect(root?.kind == .applyFailed)
        // A sibling whose name merely starts with the same characters is not a child.
        #expect(try applyPatch(#"[{"op":"move","from":"/a","path":"/ab"}]"#, to: #"{"a":1}"#) == ["ab": 1])
    }

    @Test("move onto itself is a no-op but the source must exist")
    func moveOntoItself() throws {
        #expect(try applyPatch(#"[{"op":"move","from":"/a","path":"/a"}]"#, to: #"{"a":1}"#) == ["a": 1])
        let error = try patchError(#"[{"op":"move","from":"/x","path":"/x"}]"#, to: #"{"a":1}"#)
        #expect(error?.message == "move operation does not apply: doc is missing from path: /x")
    }

    @Test("move reports a missing source and a missing destination")
    func moveMissing() throws {
        let source = try patchError(#"[{"op":"move","from":"/x","path":"/y"}]"#, to: #"{"a":1}"#)
        #expect(source?.message == "move operation does not apply: doc is missing from path: /x")
        let destination = try patchError(#"[{"op":"move","from":"/a","path":"/q/r"}]"#, to: #"{"a":1}"#)
        #expect(destination?.message == "move operation does not apply: doc is missing destination path: /q/r")
    }

    @Test("move between arrays and objects")
    func moveAcross() throws {
        #expect(
            try applyPatch(#"[{"op":"move","from":"/list/0","path":"/obj/first"}]"#, to: #"{"list":["x","y"],"obj":{}}"#)
                == ["list": ["y"], "obj": ["first": "x"]])
        #expect(
            try applyPatch(#"[{"op":"move","from":"/foo/3","path":"/foo/0"}]"#, to: #"{"foo":[1,2,3,4]}"#)
                == ["foo": [4, 1, 2, 3]])
    }

    @Test("copy duplicates a value, and later edits do not alias it")
    func copy() throws {
        let result = try applyPatch(
            #"[{"op":"copy","from":"/a","path":"/b"},{"op":"add","path":"/b/y","value":2}]"#, to: #"{"a":{"x":1}}"#)
        #expect(result == ["a": ["x": 1], "b": ["x": 1, "y": 2]])
        #expect(try applyPatch(#"[{"op":"copy","from":"/a/0","path":"/a/-"}]"#, to: #"{"a":[7]}"#) == ["a": [7, 7]])
        let error = try patchError(#"[{"op":"copy","from":"/nope","path":"/b"}]"#, to: "{}")
        #expect(error?.message == "copy operation does not apply: doc is missing from path: /nope")
    }

    @Test("test compares numbers by value and objects without key order")
    func testSemantics() throws {
        let document = #"{"n":1,"o":{"a":1,"b":[1,2.5]},"z":null}"#
        #expect(throws: Never.self) {
            _ = try applyPatch(#"[{"op":"test","path":"/n","value":1.0}]"#, to: document)
            _ = try applyPatch(#"[{"op":"test","path":"/o","value":{"b":[1.0,2.5],"a":1}}]"#, to: document)
            _ = try applyPatch(#"[{"op":"test","path":"/z","value":null}]"#, to: document)
        }
        let protocolTest = try patchError(
            #"[{"op":"test","path":"/spec/protocol","value":"UDP"}]"#, to: #"{"spec":{"protocol":"TCP"}}"#)
        #expect(protocolTest?.message == "testing value /spec/protocol failed: test failed")
        #expect(try patchError(#"[{"op":"test","path":"/o","value":{"a":1}}]"#, to: document)?.kind == .applyFailed)
        #expect(try patchError(#"[{"op":"test","path":"/n","value":true}]"#, to: document)?.kind == .applyFailed)
        // A missing member is not equal to null.
        #expect(try patchError(#"[{"op":"test","path":"/missing","value":null}]"#, to: document)?.kind == .applyFailed)
    }

    @Test("operations apply in order, each seeing the previous result")
    func sequential() throws {
        let result = try applyPatch(
            #"""
            [
              {"op":"add","path":"/metadata/labels","value":{}},
              {"op":"add","path":"/metadata/labels/app","value":"web"},
              {"op":"replace","path":"/spec/replicas","value":3},
              {"op":"test","path":"/spec/replicas","value":3},
              {"op":"remove","path":"/status"}
            ]
            """#,
            to: #"{"metadata":{"name":"x"},"spec":{"replicas":1},"status":{"ready":true}}"#)
        #expect(result == ["metadata": ["name": "x", "labels": ["app": "web"]], "spec": ["replicas": 3]])
    }

    @Test("a failing operation leaves the caller's document untouched")
    func atomic() throws {
        let original = try json(#"{"a":1,"b":[1,2]}"#)
        let patch = try JSONPatch(
            json(#"[{"op":"add","path":"/c","value":3},{"op":"remove","path":"/b/0"},{"op":"test","path":"/a","value":2}]"#))
        let error = #expect(throws: JSONPatchError.self) { try patch.apply(to: original) }
        #expect(error?.kind == .applyFailed)
        #expect(original == (try json(#"{"a":1,"b":[1,2]}"#)))
    }

    @Test("an empty patch returns the document unchanged")
    func emptyPatch() throws {
        #expect(try applyPatch("[]", to: #"{"a":[1,{"b":null}]}"#) == ["a": [1, ["b": nil]]])
    }
}

@Suite("JSON Patch decoding")
struct JSONPatchDecodingTests {
    @Test(
        "malformed patch documents are invalidDocument",
        arguments: [
            #"{"op":"add","path":"/a","value":1}"#,  // not an array
            #""add""#,
            #"[1]"#,  // element not an object
            #"[{"path":"/a","value":1}]"#,  // no op
            #"[{"op":1,"path":"/a"}]"#,  // op not a string
            #"[{"op":"add","value":1}]"#,  // no path
            #"[{"op":"add","path":"/a"}]"#,  // no value
            #"[{"op":"replace","path":"/a"}]"#,
            #"[{"op":"test","path":"/a"}]"#,
            #"[{"op":"remove"}]"#,
            #"[{"op":"move","path":"/a"}]"#,  // no from
            #"[{"op":"copy","path":"/a"}]"#,
            #"[{"op":"add","path":3,"value":1}]"#,  // path not a string
            #"[{"op":"move","from":null,"path":"/a"}]"#,
            #"[{"op":"add","path":"a","value":1}]"#,  // path not a pointer
            #"[{"op":"remove","path":"/a~2"}]"#,  // bad escape
            #"[{"op":"test","path":"/a","value":1},{"op":"bad","path":"/a"}]"#,  // second op unknown
        ])
    func malformed(patch: String) throws {
        let error = try decodeError(patch)
        #expect(error?.kind == .invalidDocument)
    }

    @Test("unknown ops are reported like Go's json-patch")
    func unknownOp() throws {
        #expect(try decodeError(#"[{"op":"bad","path":"/a"}]"#)?.message == "Unexpected kind: bad")
        // Op names are case sensitive.
        #expect(try decodeError(#"[{"op":"ADD","path":"/a","value":1}]"#)?.kind == .invalidDocument)
    }

    @Test("a null value is present, not missing")
    func nullValueIsPresent() throws {
        #expect(try decodeError(#"[{"op":"add","path":"/a","value":null}]"#) == nil)
    }

    @Test("errors describe themselves with their message")
    func errorDescription() {
        let error = JSONPatchError(kind: .applyFailed, message: "testing value /a failed: test failed")
        #expect(String(describing: error) == "testing value /a failed: test failed")
    }
}
