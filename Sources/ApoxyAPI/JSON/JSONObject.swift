/// A JSON object's members. Keys compare by their UTF-8 bytes, as Go's decoder and RFC 8259 compare names: "é"
/// precomposed (U+00E9) and decomposed ("e" + U+0301) are two members, where Swift's `String` equality (canonical
/// equivalence) would merge them into one. The API is `String`-keyed like a dictionary's.
public struct JSONObject: Sendable, Hashable {
    /// A member name, equal to another only when their UTF-8 bytes are.
    public struct MemberName: Sendable, Hashable, Comparable {
        /// The name.
        public var string: String

        /// Wraps a name.
        public init(_ string: String) { self.string = string }

        public static func == (a: MemberName, b: MemberName) -> Bool {
            a.withBytes { x in b.withBytes { y in x.count == y.count && x.elementsEqual(y) } }
        }

        public func hash(into hasher: inout Hasher) {
            withBytes { hasher.combine(bytes: UnsafeRawBufferPointer($0)) }
            // A terminator, so that concatenations of keys in a compound hash cannot collide.
            hasher.combine(UInt8(0xFF))
        }

        /// Byte order, which is code point order: the order serialization writes members in (Go's encoder sorts
        /// map keys by their bytes too).
        public static func < (a: MemberName, b: MemberName) -> Bool {
            a.withBytes { x in
                b.withBytes { y in
                    for index in 0..<Swift.min(x.count, y.count) where x[index] != y[index] { return x[index] < y[index] }
                    return x.count < y.count
                }
            }
        }

        /// Runs `body` over the name's UTF-8 bytes (contiguous, without a copy for a native string).
        func withBytes<R>(_ body: (UnsafeBufferPointer<UInt8>) -> R) -> R {
            if let result = string.utf8.withContiguousStorageIfAvailable(body) { return result }
            var copy = string
            return copy.withUTF8(body)
        }
    }

    /// The members by name; in place edits (`index(forKey:)`, `values[index]`) go through it.
    public var storage: [MemberName: JSONValue]

    /// No members.
    public init() { storage = [:] }

    /// The members of a dictionary (whose keys Swift has already compared by canonical equivalence).
    public init(_ members: [String: JSONValue]) {
        storage = Dictionary(minimumCapacity: members.count)
        for (key, value) in members { storage[MemberName(key)] = value }
    }

    /// The members of `pairs`; a repeated key keeps its last value.
    public init<S: Sequence>(_ pairs: S) where S.Element == (String, JSONValue) {
        storage = Dictionary(minimumCapacity: pairs.underestimatedCount)
        for (key, value) in pairs { storage[MemberName(key)] = value }
    }

    /// The member named `key`.
    public subscript(key: String) -> JSONValue? {
        get { storage[MemberName(key)] }
        set { storage[MemberName(key)] = newValue }
    }

    /// The member named `key`, or `defaultValue` (which a mutation then stores).
    public subscript(key: String, default defaultValue: @autoclosure () -> JSONValue) -> JSONValue {
        get { storage[MemberName(key), default: defaultValue()] }
        set { storage[MemberName(key)] = newValue }
    }

    /// Number of members.
    public var count: Int { storage.count }
    /// Whether there are no members.
    public var isEmpty: Bool { storage.isEmpty }
    /// The member names, in no particular order.
    public var keys: [String] { storage.keys.map(\.string) }
    /// The member values, in no particular order.
    public var values: Dictionary<MemberName, JSONValue>.Values { storage.values }

    /// Makes room for `capacity` members.
    public mutating func reserveCapacity(_ capacity: Int) { storage.reserveCapacity(capacity) }

    /// Sets `value` for `key`; returns the value it replaced.
    @discardableResult
    public mutating func updateValue(_ value: JSONValue, forKey key: String) -> JSONValue? {
        storage.updateValue(value, forKey: MemberName(key))
    }

    /// Removes the member named `key`; returns its value.
    @discardableResult
    public mutating func removeValue(forKey key: String) -> JSONValue? {
        storage.removeValue(forKey: MemberName(key))
    }

    /// The members with their values transformed.
    public func mapValues(_ transform: (JSONValue) throws -> JSONValue) rethrows -> JSONObject {
        var result = JSONObject()
        result.storage = try storage.mapValues(transform)
        return result
    }

    /// The values `transform` keeps, by name (labels and annotations as `[String: String]`, for example).
    public func compactMapValues<T>(_ transform: (JSONValue) throws -> T?) rethrows -> [String: T] {
        var result: [String: T] = [:]
        for (name, value) in storage {
            if let mapped = try transform(value) { result[name.string] = mapped }
        }
        return result
    }

    /// The members `isIncluded` accepts.
    public func filter(_ isIncluded: ((key: String, value: JSONValue)) throws -> Bool) rethrows -> JSONObject {
        var result = JSONObject()
        result.storage = try storage.filter { try isIncluded(($0.key.string, $0.value)) }
        return result
    }

    /// Adds `other`'s members; `combine` picks the value for a key both have.
    public mutating func merge(_ other: JSONObject, uniquingKeysWith combine: (JSONValue, JSONValue) throws -> JSONValue) rethrows {
        try storage.merge(other.storage, uniquingKeysWith: combine)
    }

    /// Adds a dictionary's members; `combine` picks the value for a key both have.
    public mutating func merge(
        _ other: [String: JSONValue], uniquingKeysWith combine: (JSONValue, JSONValue) throws -> JSONValue
    ) rethrows {
        try storage.merge(other.map { (MemberName($0.key), $0.value) }, uniquingKeysWith: combine)
    }

    /// The members sorted by key bytes, as serialization writes them.
    public var sortedByKey: [(key: String, value: JSONValue)] {
        storage.sorted { $0.key < $1.key }.map { ($0.key.string, $0.value) }
    }
}

extension JSONObject: Sequence {
    /// Iterates `(key, value)` pairs in no particular order.
    public struct Iterator: IteratorProtocol {
        var base: Dictionary<MemberName, JSONValue>.Iterator
        public mutating func next() -> (key: String, value: JSONValue)? {
            base.next().map { ($0.key.string, $0.value) }
        }
    }

    public func makeIterator() -> Iterator { Iterator(base: storage.makeIterator()) }
    public var underestimatedCount: Int { storage.count }
}

extension JSONObject: ExpressibleByDictionaryLiteral {
    public init(dictionaryLiteral elements: (String, JSONValue)...) {
        self.init(elements)
    }
}

extension JSONValue {
    /// An object of a dictionary's members (built in code, so its keys are distinct by any comparison).
    public static func object(_ members: [String: JSONValue]) -> JSONValue {
        .object(JSONObject(members))
    }
}
