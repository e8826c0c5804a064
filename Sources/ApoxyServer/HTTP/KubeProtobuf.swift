import ApoxyAPI

/// Request bodies in `application/vnd.kubernetes.protobuf`, which kubectl's typed clients send for built-in kinds
/// (`kubectl create clusterrole`, `create clusterrolebinding`, `auth can-i`, `auth whoami`) and which client-go
/// never retries as JSON. Decodes kube's envelope (`k8s\0` + runtime.Unknown) and the few messages served here
/// into the JSON the endpoints take; responses stay JSON, which clients accept from their Accept list.
enum KubeProtobuf {
    static let mediaType = "application/vnd.kubernetes.protobuf"

    /// How one field of a message is rendered.
    indirect enum Field: Sendable {
        case string
        case int
        case strings
        case message(Message)
        case messages(Message)
        case stringMap
    }

    /// A message: JSON member name and rendering by field number.
    struct Message: Sendable {
        let fields: [Int: (name: String, field: Field)]
    }

    static let objectMeta = Message(fields: [
        1: ("name", .string), 2: ("generateName", .string), 3: ("namespace", .string), 5: ("uid", .string),
        6: ("resourceVersion", .string), 7: ("generation", .int), 11: ("labels", .stringMap), 12: ("annotations", .stringMap),
        14: ("finalizers", .strings),
    ])
    static let policyRule = Message(fields: [
        1: ("verbs", .strings), 2: ("apiGroups", .strings), 3: ("resources", .strings), 4: ("resourceNames", .strings),
        5: ("nonResourceURLs", .strings),
    ])
    static let subject = Message(fields: [1: ("kind", .string), 2: ("apiGroup", .string), 3: ("name", .string), 4: ("namespace", .string)])
    static let roleRef = Message(fields: [1: ("apiGroup", .string), 2: ("kind", .string), 3: ("name", .string)])
    static let resourceAttributes = Message(fields: [
        1: ("namespace", .string), 2: ("verb", .string), 3: ("group", .string), 4: ("version", .string), 5: ("resource", .string),
        6: ("subresource", .string), 7: ("name", .string),
    ])
    static let nonResourceAttributes = Message(fields: [1: ("path", .string), 2: ("verb", .string)])

    /// The messages by kind.
    static let kinds: [String: Message] = [
        "ClusterRole": Message(fields: [1: ("metadata", .message(objectMeta)), 2: ("rules", .messages(policyRule))]),
        "ClusterRoleBinding": Message(fields: [
            1: ("metadata", .message(objectMeta)), 2: ("subjects", .messages(subject)), 3: ("roleRef", .message(roleRef)),
        ]),
        "SelfSubjectAccessReview": Message(fields: [
            1: ("metadata", .message(objectMeta)),
            2: (
                "spec",
                .message(
                    Message(fields: [
                        1: ("resourceAttributes", .message(resourceAttributes)),
                        2: ("nonResourceAttributes", .message(nonResourceAttributes)),
                    ]))
            ),
        ]),
        "SelfSubjectReview": Message(fields: [1: ("metadata", .message(objectMeta))]),
    ]

    /// The object in a protobuf body as JSON (with apiVersion and kind), or 415 for kinds this server does not
    /// read as protobuf, 400 for a malformed body.
    static func decode(_ bytes: [UInt8]) throws(StatusError) -> JSONValue {
        guard bytes.count >= 4, bytes[0..<4].elementsEqual([0x6B, 0x38, 0x73, 0x00]) else {
            throw .badRequest("provided protobuf data does not have the kubernetes envelope")
        }
        var reader = Reader(bytes: bytes[4...])
        var apiVersion = ""
        var kind = ""
        var raw: ArraySlice<UInt8> = []
        do {
            while let (number, value) = try reader.next() {
                switch (number, value) {
                case (1, .bytes(let typeMeta)):
                    var inner = Reader(bytes: typeMeta)
                    while let (n, v) = try inner.next() {
                        if case .bytes(let text) = v {
                            if n == 1 { apiVersion = String(decoding: text, as: UTF8.self) }
                            if n == 2 { kind = String(decoding: text, as: UTF8.self) }
                        }
                    }
                case (2, .bytes(let bytes)):
                    raw = bytes
                default:
                    break
                }
            }
            guard let message = kinds[kind] else {
                throw StatusError.unsupportedMediaType(
                    "the body of the request was in an unknown format - accepted media types include: application/json, application/yaml")
            }
            guard case .object(var object) = try render(raw, message) else { throw Malformed() }
            object["apiVersion"] = .string(apiVersion)
            object["kind"] = .string(kind)
            return .object(object)
        } catch let error as StatusError {
            throw error
        } catch {
            throw .badRequest("error decoding \(kind.isEmpty ? "object" : kind) from protobuf: malformed message")
        }
    }

    static func render(_ bytes: ArraySlice<UInt8>, _ message: Message) throws -> JSONValue {
        var reader = Reader(bytes: bytes)
        var members = JSONObject()
        while let (number, value) = try reader.next() {
            guard let (name, field) = message.fields[number] else { continue }
            switch (field, value) {
            case (.string, .bytes(let text)):
                if !text.isEmpty { members[name] = .string(String(decoding: text, as: UTF8.self)) }
            case (.int, .varint(let number)):
                if number != 0 { members[name] = .integer(Int64(bitPattern: number)) }
            case (.strings, .bytes(let text)):
                members[name, default: .array([])].append(.string(String(decoding: text, as: UTF8.self)))
            case (.message(let inner), .bytes(let body)):
                members[name] = try render(body, inner)
            case (.messages(let inner), .bytes(let body)):
                members[name, default: .array([])].append(try render(body, inner))
            case (.stringMap, .bytes(let entry)):
                var entryReader = Reader(bytes: entry)
                var key = ""
                var mapped = ""
                while let (n, v) = try entryReader.next() {
                    if case .bytes(let text) = v {
                        if n == 1 { key = String(decoding: text, as: UTF8.self) }
                        if n == 2 { mapped = String(decoding: text, as: UTF8.self) }
                    }
                }
                var map = members[name]?.objectValue ?? [:]
                map[key] = .string(mapped)
                members[name] = .object(map)
            default:
                throw Malformed()
            }
        }
        return .object(members)
    }

    struct Malformed: Error {}

    /// A value on the protobuf wire.
    enum WireValue {
        case varint(UInt64)
        case bytes(ArraySlice<UInt8>)
        case fixed
    }

    /// Reads (field number, value) pairs.
    struct Reader {
        var bytes: ArraySlice<UInt8>

        mutating func varint() throws -> UInt64 {
            var result: UInt64 = 0
            var shift: UInt64 = 0
            while let byte = bytes.popFirst() {
                result |= UInt64(byte & 0x7F) << shift
                if byte & 0x80 == 0 { return result }
                shift += 7
                guard shift < 64 else { throw Malformed() }
            }
            throw Malformed()
        }

        mutating func next() throws -> (Int, WireValue)? {
            guard !bytes.isEmpty else { return nil }
            let key = try varint()
            let number = Int(key >> 3)
            switch key & 7 {
            case 0:
                return (number, .varint(try varint()))
            case 1, 5:
                let size = key & 7 == 1 ? 8 : 4
                guard bytes.count >= size else { throw Malformed() }
                bytes = bytes.dropFirst(size)
                return (number, .fixed)
            case 2:
                let length = try varint()
                guard length <= UInt64(bytes.count) else { throw Malformed() }
                let value = bytes.prefix(Int(length))
                bytes = bytes.dropFirst(Int(length))
                return (number, .bytes(value))
            default:
                throw Malformed()
            }
        }
    }
}

extension JSONValue {
    /// Appends to an array value (used while decoding repeated fields).
    fileprivate mutating func append(_ element: JSONValue) {
        if case .array(var items) = self {
            items.append(element)
            self = .array(items)
        }
    }
}
