/// A set of field paths in structured-merge-diff's FieldsV1 form: keys `f:<field>`, `k:<json keys>` for entries of
/// associative lists, and `.` when a node with children is itself in the set.
public struct FieldSet: Sendable, Equatable {
    /// Child nodes by path element.
    public var children: [String: FieldSet] = [:]
    /// Whether the path to this node is itself in the set.
    public var isMember = false

    /// An empty set.
    public init() {}

    /// True when no path is in the set.
    public var isEmpty: Bool { !isMember && children.values.allSatisfy(\.isEmpty) }

    /// Reads FieldsV1 JSON.
    public init(fieldsV1 json: JSONValue) {
        for (key, value) in json.objectValue ?? [:] {
            if key == "." {
                isMember = true
            } else {
                var child = FieldSet(fieldsV1: value)
                if (value.objectValue ?? [:]).isEmpty { child.isMember = true }
                children[key] = child
            }
        }
    }

    /// The FieldsV1 JSON.
    public var fieldsV1: JSONValue {
        var members = JSONObject()
        for (key, child) in children where !child.isEmpty {
            members[key] = child.fieldsV1
        }
        if isMember && !members.isEmpty { members["."] = [:] }
        return .object(members)
    }

    /// Every member path.
    public var paths: [[String]] {
        var result: [[String]] = []
        func walk(_ node: FieldSet, _ prefix: [String]) {
            if node.isMember { result.append(prefix) }
            for key in node.children.keys.sorted() { walk(node.children[key]!, prefix + [key]) }
        }
        walk(self, [])
        return result
    }

    /// Whether `path` is a member.
    public func contains(_ path: [String]) -> Bool {
        var node = self
        for element in path {
            guard let child = node.children[element] else { return false }
            node = child
        }
        return node.isMember
    }

    /// Adds `path`.
    public mutating func insert(_ path: [String]) {
        guard let first = path.first else {
            isMember = true
            return
        }
        var child = children[first] ?? FieldSet()
        child.insert(Array(path.dropFirst()))
        children[first] = child
    }

    /// Removes `path` (not its descendants).
    public mutating func remove(_ path: [String]) {
        guard let first = path.first else {
            isMember = false
            return
        }
        guard var child = children[first] else { return }
        child.remove(Array(path.dropFirst()))
        children[first] = child.isEmpty ? nil : child
    }

    /// Members of both.
    public func union(_ other: FieldSet) -> FieldSet {
        var result = self
        result.isMember = isMember || other.isMember
        for (key, child) in other.children {
            result.children[key] = (children[key] ?? FieldSet()).union(child)
        }
        return result
    }

    /// Members of this set that are not in `other`.
    public func subtracting(_ other: FieldSet) -> FieldSet {
        var result = FieldSet()
        result.isMember = isMember && !other.isMember
        for (key, child) in children {
            let remaining = other.children[key].map { child.subtracting($0) } ?? child
            if !remaining.isEmpty { result.children[key] = remaining }
        }
        return result
    }

    /// Members in both sets.
    public func intersection(_ other: FieldSet) -> FieldSet {
        var result = FieldSet()
        result.isMember = isMember && other.isMember
        for (key, child) in children {
            guard let theirs = other.children[key] else { continue }
            let both = child.intersection(theirs)
            if !both.isEmpty { result.children[key] = both }
        }
        return result
    }

    /// The path rendered as kube prints it in conflicts: `.spec.protocol`, `.status.conditions[type="Ready"].status`.
    public static func render(_ path: [String]) -> String {
        var text = ""
        for element in path {
            if element.hasPrefix("f:") {
                text += "." + element.dropFirst(2)
            } else if element.hasPrefix("k:"), let keys = try? JSONValue.parse(String(element.dropFirst(2))).objectValue {
                text += "[" + keys.keys.sorted().map { "\($0)=\(keys[$0]!.jsonString)" }.joined(separator: ",") + "]"
            } else {
                text += "[\(element)]"
            }
        }
        return text
    }
}
