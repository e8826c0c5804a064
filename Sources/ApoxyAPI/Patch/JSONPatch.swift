/// Why a JSON Patch could not be decoded or applied. `kind` tells the server which HTTP code to answer.
public struct JSONPatchError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Which side is at fault: the patch text, or its fit with the current object.
    public enum Kind: Sendable {
        /// The patch itself is malformed: HTTP 400.
        case invalidDocument
        /// A valid patch does not apply to this document, including a failed `test`: HTTP 422.
        case applyFailed
    }

    /// Which HTTP status the failure maps to.
    public var kind: Kind
    /// What went wrong, worded like Go's evanphx/json-patch so clients see what kube-apiserver would say.
    public var message: String

    /// An error of the given kind.
    public init(kind: Kind, message: String) {
        self.kind = kind
        self.message = message
    }

    /// The message alone, as it goes into a `Status`.
    public var description: String { message }
}

/// An RFC 6902 JSON Patch document.
public struct JSONPatch: Sendable {
    /// One decoded operation; pointers are parsed up front so a malformed patch fails before touching anything.
    enum Operation: Sendable {
        case add(path: JSONPointer, value: JSONValue)
        case remove(path: JSONPointer)
        case replace(path: JSONPointer, value: JSONValue)
        case move(from: JSONPointer, path: JSONPointer)
        case copy(from: JSONPointer, path: JSONPointer)
        case test(path: JSONPointer, value: JSONValue)
    }

    /// The operations, in the order they are applied.
    let operations: [Operation]

    /// Decodes and validates a patch: an array of operation objects, each with `op` and the members that op requires.
    /// Unrecognised members are ignored (RFC 6902 section 4).
    public init(_ document: JSONValue) throws(JSONPatchError) {
        guard case .array(let elements) = document else {
            throw Self.invalid("invalid JSON patch: expected an array of operations, got \(document.typeName)")
        }
        if elements.count > Self.maxOperations {
            throw Self.invalid("The allowed maximum operations in a JSON patch is \(Self.maxOperations), got \(elements.count)")
        }
        var operations: [Operation] = []
        operations.reserveCapacity(elements.count)
        for (index, element) in elements.enumerated() {
            operations.append(try Self.decode(element, index: index))
        }
        self.operations = operations
    }

    /// Applies every operation in order. Atomic: on error nothing is returned, and `target` is a value, so the
    /// caller's document is never half patched.
    public func apply(to target: JSONValue) throws(JSONPatchError) -> JSONValue {
        var document = target
        var copied = 0
        for operation in operations {
            if case .copy(let from, _) = operation, let value = Self.value(at: from, in: document) {
                // Copies share storage, so a patch of self-appending copies doubles the document per operation while
                // costing nothing here; serialising it would not. Count what copies add (as evanphx/json-patch's
                // AccumulatedCopySizeLimit, which kube-apiserver sets), stopping at the limit.
                copied += Self.nodeCount(value, budget: Self.maxCopiedValues - copied + 1)
                if copied > Self.maxCopiedValues {
                    throw JSONPatchError(
                        kind: .applyFailed,
                        message:
                            "Unable to complete the copy, the accumulated size increase of copy exceeds the limit of \(Self.maxCopiedValues) values"
                    )
                }
            }
            try Self.perform(operation, on: &document)
        }
        return document
    }

    /// The most values all copy operations of one patch may add.
    public static let maxCopiedValues = 1_000_000
    /// The most operations one patch may hold (kube-apiserver's limit).
    public static let maxOperations = 10_000

    /// The values in `value`, counted up to `budget` (shared subtrees count each time they appear, as they would
    /// once serialised).
    static func nodeCount(_ value: JSONValue, budget: Int) -> Int {
        var count = 0
        var stack: [JSONValue] = [value]
        while let next = stack.popLast(), count < budget {
            count += 1
            switch next {
            case .array(let elements): stack.append(contentsOf: elements)
            case .object(let members): stack.append(contentsOf: members.values)
            default: break
            }
        }
        return count
    }
}

// MARK: - Decoding

extension JSONPatch {
    private static func invalid(_ message: String) -> JSONPatchError {
        JSONPatchError(kind: .invalidDocument, message: message)
    }

    private static func decode(_ element: JSONValue, index: Int) throws(JSONPatchError) -> Operation {
        guard case .object(let members) = element else {
            throw invalid("invalid JSON patch: operation \(index) is a \(element.typeName), not an object")
        }
        guard let opValue = members["op"] else {
            throw invalid("invalid JSON patch: operation \(index) is missing \"op\"")
        }
        guard case .string(let op) = opValue else {
            throw invalid("invalid JSON patch: operation \(index) has a non-string \"op\"")
        }

        func pointer(_ name: String) throws(JSONPatchError) -> JSONPointer {
            guard let member = members[name] else {
                throw invalid("\(op) operation missing \"\(name)\" field")
            }
            guard case .string(let text) = member else {
                throw invalid("\(op) operation has a non-string \"\(name)\" field")
            }
            return try JSONPointer(text)
        }

        // Presence is what matters: `"value": null` is a legitimate value to add or test for.
        func value() throws(JSONPatchError) -> JSONValue {
            guard let value = members["value"] else {
                throw invalid("\(op) operation missing \"value\" field")
            }
            return value
        }

        switch op {
        case "add": return .add(path: try pointer("path"), value: try value())
        case "remove": return .remove(path: try pointer("path"))
        case "replace": return .replace(path: try pointer("path"), value: try value())
        case "move": return .move(from: try pointer("from"), path: try pointer("path"))
        case "copy": return .copy(from: try pointer("from"), path: try pointer("path"))
        case "test": return .test(path: try pointer("path"), value: try value())
        default: throw invalid("Unexpected kind: \(op)")
        }
    }
}

// MARK: - Applying

extension JSONPatch {
    /// Why a structural edit failed; each operation words it for the client.
    private enum Failure: Error {
        case missing
        case invalidIndex(String)
        case root
    }

    private static func failed(_ message: String) -> JSONPatchError {
        JSONPatchError(kind: .applyFailed, message: message)
    }

    private static func invalidIndexMessage(_ op: String, _ token: String, _ pointer: JSONPointer) -> String {
        "\(op) operation does not apply: invalid array index \"\(token)\" in path \"\(pointer.text)\""
    }

    private static func perform(_ operation: Operation, on document: inout JSONValue) throws(JSONPatchError) {
        switch operation {
        case .add(let path, let value):
            do throws(Failure) {
                try insert(value, at: path, in: &document)
            } catch {
                switch error {
                case .invalidIndex(let token): throw failed(invalidIndexMessage("add", token, path))
                case .missing, .root: throw failed("add operation does not apply: doc is missing path: \"\(path.text)\"")
                }
            }

        case .remove(let path):
            do throws(Failure) {
                _ = try remove(at: path, in: &document)
            } catch {
                switch error {
                case .invalidIndex(let token): throw failed(invalidIndexMessage("remove", token, path))
                case .root: throw failed("remove operation does not apply: cannot remove the whole document")
                case .missing: throw failed("remove operation does not apply: doc is missing path: \"\(path.text)\"")
                }
            }

        case .replace(let path, let value):
            do throws(Failure) {
                try replace(with: value, at: path, in: &document)
            } catch {
                switch error {
                case .invalidIndex(let token): throw failed(invalidIndexMessage("replace", token, path))
                case .missing, .root: throw failed("replace operation does not apply: doc is missing key: \(path.text)")
                }
            }

        case .move(let from, let path):
            guard !from.isProperPrefix(of: path) else {
                throw failed("move operation does not apply: cannot move \"\(from.text)\" into its own child \"\(path.text)\"")
            }
            if from == path {
                // A no-op, but RFC 6902 section 4.4 still requires the source to exist.
                guard value(at: from, in: document) != nil else {
                    throw failed("move operation does not apply: doc is missing from path: \(from.text)")
                }
                return
            }
            let moved: JSONValue
            do throws(Failure) {
                moved = try remove(at: from, in: &document)
            } catch {
                switch error {
                case .invalidIndex(let token): throw failed(invalidIndexMessage("move", token, from))
                case .missing, .root: throw failed("move operation does not apply: doc is missing from path: \(from.text)")
                }
            }
            do throws(Failure) {
                try insert(moved, at: path, in: &document)
            } catch {
                switch error {
                case .invalidIndex(let token): throw failed(invalidIndexMessage("move", token, path))
                case .missing, .root: throw failed("move operation does not apply: doc is missing destination path: \(path.text)")
                }
            }

        case .copy(let from, let path):
            guard let copied = value(at: from, in: document) else {
                throw failed("copy operation does not apply: doc is missing from path: \(from.text)")
            }
            do throws(Failure) {
                try insert(copied, at: path, in: &document)
            } catch {
                switch error {
                case .invalidIndex(let token): throw failed(invalidIndexMessage("copy", token, path))
                case .missing, .root: throw failed("copy operation does not apply: doc is missing destination path: \(path.text)")
                }
            }

        case .test(let path, let expected):
            guard let actual = value(at: path, in: document) else {
                throw failed("test operation does not apply: doc is missing path: \(path.text)")
            }
            guard actual.semanticallyEquals(expected) else {
                throw failed("testing value \(path.text) failed: test failed")
            }
        }
    }

    /// The value a pointer names, or nil if it does not exist.
    static func value(at pointer: JSONPointer, in document: JSONValue) -> JSONValue? {
        var current = document
        for token in pointer.tokens {
            switch current {
            case .object(let members):
                guard let next = members[token] else { return nil }
                current = next
            case .array(let elements):
                guard let index = JSONPointer.arrayIndex(token), index < elements.count else { return nil }
                current = elements[index]
            default:
                return nil
            }
        }
        return current
    }

    /// Runs `body` in place on the container holding the pointer's last token, passing that token.
    /// Returns nil, without calling `body`, when some ancestor does not exist.
    private static func withParent<R, E: Error>(
        of tokens: ArraySlice<String>,
        in value: inout JSONValue,
        _ body: (inout JSONValue, String) throws(E) -> R
    ) throws(E) -> R? {
        guard let token = tokens.first else { return nil }
        if tokens.count == 1 { return try body(&value, token) }
        let rest = tokens.dropFirst()
        switch value {
        case .object(var members):
            guard let index = members.storage.index(forKey: .init(token)) else { return nil }
            // Drop the enum's reference first so the storage is uniquely owned and edited without a copy.
            value = .null
            defer { value = .object(members) }
            return try withParent(of: rest, in: &members.storage.values[index], body)
        case .array(var elements):
            guard let index = JSONPointer.arrayIndex(token), index < elements.count else { return nil }
            value = .null
            defer { value = .array(elements) }
            return try withParent(of: rest, in: &elements[index], body)
        default:
            return nil
        }
    }

    /// RFC 6902 `add`: sets an object member (replacing any) or inserts into an array (`-` appends).
    private static func insert(_ new: JSONValue, at pointer: JSONPointer, in document: inout JSONValue) throws(Failure) {
        guard !pointer.tokens.isEmpty else {
            document = new
            return
        }
        let done: Void? = try withParent(of: pointer.tokens[...], in: &document) { container, token throws(Failure) in
            switch container {
            case .object(var members):
                container = .null
                members[token] = new
                container = .object(members)
            case .array(var elements):
                container = .null
                defer { container = .array(elements) }
                if token == "-" {
                    elements.append(new)
                    return
                }
                // Unlike elsewhere, index == count is allowed: it appends.
                guard let index = JSONPointer.arrayIndex(token), index <= elements.count else {
                    throw .invalidIndex(token)
                }
                elements.insert(new, at: index)
            default:
                throw .missing
            }
        }
        guard done != nil else { throw .missing }
    }

    /// RFC 6902 `remove`: deletes an existing member or element and returns it (for `move`).
    private static func remove(at pointer: JSONPointer, in document: inout JSONValue) throws(Failure) -> JSONValue {
        guard !pointer.tokens.isEmpty else { throw .root }
        let removed: JSONValue? = try withParent(of: pointer.tokens[...], in: &document) { container, token throws(Failure) in
            switch container {
            case .object(var members):
                container = .null
                defer { container = .object(members) }
                guard let old = members.removeValue(forKey: token) else { throw .missing }
                return old
            case .array(var elements):
                container = .null
                defer { container = .array(elements) }
                guard let index = JSONPointer.arrayIndex(token), index < elements.count else {
                    throw .invalidIndex(token)
                }
                return elements.remove(at: index)
            default:
                throw .missing
            }
        }
        guard let removed else { throw .missing }
        return removed
    }

    /// RFC 6902 `replace`: like remove then add, but the target must already exist.
    private static func replace(with new: JSONValue, at pointer: JSONPointer, in document: inout JSONValue) throws(Failure) {
        guard !pointer.tokens.isEmpty else {
            document = new
            return
        }
        let done: Void? = try withParent(of: pointer.tokens[...], in: &document) { container, token throws(Failure) in
            switch container {
            case .object(var members):
                guard let index = members.storage.index(forKey: .init(token)) else { throw .missing }
                container = .null
                members.storage.values[index] = new
                container = .object(members)
            case .array(var elements):
                guard let index = JSONPointer.arrayIndex(token), index < elements.count else {
                    throw .invalidIndex(token)
                }
                container = .null
                elements[index] = new
                container = .array(elements)
            default:
                throw .missing
            }
        }
        guard done != nil else { throw .missing }
    }
}
