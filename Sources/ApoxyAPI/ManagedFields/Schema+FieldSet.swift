extension Schema {
    /// How server-side apply treats values of this schema (structured-merge-diff's element relationship).
    enum MergeKind {
        /// Named members, each merged on its own.
        case structure
        /// String keys (labels, annotations), each entry merged on its own.
        case map
        /// A list whose entries are identified by key fields (`x-kubernetes-list-type: map`).
        case associativeList(keys: [String])
        /// Replaced as a whole.
        case atomic
    }

    var mergeKind: MergeKind {
        switch kind {
        case .object:
            if additionalProperties != nil { return .map }
            if !properties.isEmpty { return .structure }
            return .atomic
        case .array:
            if extensions["x-kubernetes-list-type"] == "map", let keys = extensions["x-kubernetes-list-map-keys"]?.arrayValue {
                return .associativeList(keys: keys.compactMap(\.stringValue))
            }
            return .atomic
        default:
            return .atomic
        }
    }

    /// The `k:` path element of an associative-list entry.
    static func keyElement(_ entry: JSONValue, keys: [String]) -> String {
        var fields = JSONObject()
        for key in keys { fields[key] = entry[key] ?? .null }
        return "k:" + JSONValue.object(fields).jsonString
    }

    /// The fields `value` sets, per this schema.
    func fieldSet(of value: JSONValue) -> FieldSet {
        var set = FieldSet()
        switch mergeKind {
        case .structure:
            for (name, member) in value.objectValue ?? [:] where !member.isNull {
                guard let child = property(name) else { continue }
                set.children["f:\(name)"] = child.leafMarked(member)
            }
        case .map:
            set.isMember = true
            for (name, member) in value.objectValue ?? [:] where !member.isNull {
                set.children["f:\(name)"] = additionalProperties!.leafMarked(member)
            }
        case .associativeList(let keys):
            for entry in value.arrayValue ?? [] {
                var child = items?.fieldSet(of: entry) ?? FieldSet()
                child.isMember = true
                set.children[Self.keyElement(entry, keys: keys)] = child
            }
        case .atomic:
            set.isMember = true
        }
        return set
    }

    private func leafMarked(_ value: JSONValue) -> FieldSet {
        var child = fieldSet(of: value)
        if child.children.isEmpty { child.isMember = true }
        return child
    }

    /// The schema of the node `element` leads to.
    func child(_ element: String) -> Schema? {
        if element.hasPrefix("f:") {
            let name = String(element.dropFirst(2))
            return property(name) ?? additionalProperties
        }
        if element.hasPrefix("k:") { return items }
        return nil
    }

    /// The value at `path` in `value`, or nil if absent.
    func value(at path: [String], in value: JSONValue) -> JSONValue? {
        guard let element = path.first else { return value }
        guard let childSchema = child(element) else { return nil }
        let next: JSONValue?
        if element.hasPrefix("f:") {
            next = value[String(element.dropFirst(2))]
        } else if case .associativeList(let keys) = mergeKind {
            next = value.arrayValue?.first { Self.keyElement($0, keys: keys) == element }
        } else {
            next = nil
        }
        guard let next else { return nil }
        return childSchema.value(at: Array(path.dropFirst()), in: next)
    }

    /// `value` without the node at `path` (no-op when absent).
    func removing(_ path: [String], from value: JSONValue) -> JSONValue {
        guard let element = path.first, let childSchema = child(element) else { return value }
        let rest = Array(path.dropFirst())
        if element.hasPrefix("f:") {
            let name = String(element.dropFirst(2))
            guard case .object(var members) = value, let member = members[name] else { return value }
            members[name] = rest.isEmpty ? nil : childSchema.removing(rest, from: member)
            return .object(members)
        }
        guard case .associativeList(let keys) = mergeKind, case .array(var entries) = value,
            let index = entries.firstIndex(where: { Self.keyElement($0, keys: keys) == element })
        else { return value }
        if rest.isEmpty {
            entries.remove(at: index)
        } else {
            entries[index] = childSchema.removing(rest, from: entries[index])
        }
        return .array(entries)
    }

    /// `config` merged into `live` as server-side apply merges: structures and maps member by member,
    /// associative lists entry by entry (live order, new entries appended), everything else replaced.
    func merged(_ live: JSONValue?, _ config: JSONValue) -> JSONValue {
        guard let live, !live.isNull else { return config }
        switch mergeKind {
        case .structure, .map:
            guard case .object(var members) = live, case .object(let updates) = config else { return config }
            for (name, update) in updates {
                let childSchema = property(name) ?? additionalProperties
                members[name] = childSchema.map { $0.merged(members[name], update) } ?? update
            }
            return .object(members)
        case .associativeList(let keys):
            guard case .array(var entries) = live, case .array(let updates) = config, let items else { return config }
            for update in updates {
                let element = Self.keyElement(update, keys: keys)
                if let index = entries.firstIndex(where: { Self.keyElement($0, keys: keys) == element }) {
                    entries[index] = items.merged(entries[index], update)
                } else {
                    entries.append(update)
                }
            }
            return .array(entries)
        case .atomic:
            return config
        }
    }
}
