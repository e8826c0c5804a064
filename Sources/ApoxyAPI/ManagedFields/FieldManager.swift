/// One `metadata.managedFields` entry.
public struct ManagedFieldsEntry: Sendable, Equatable {
    public var manager: String
    /// `Apply` or `Update`.
    public var operation: String
    public var apiVersion: String
    /// Seconds since the epoch.
    public var time: Int64
    /// `""` for the main resource, `status` for the status subresource.
    public var subresource: String
    public var fields: FieldSet

    /// Creates an entry.
    public init(manager: String, operation: String, apiVersion: String, time: Int64, subresource: String, fields: FieldSet) {
        self.manager = manager
        self.operation = operation
        self.apiVersion = apiVersion
        self.time = time
        self.subresource = subresource
        self.fields = fields
    }

    /// Reads an entry.
    public init(json: JSONValue) {
        manager = json["manager"]?.stringValue ?? ""
        operation = json["operation"]?.stringValue ?? "Update"
        apiVersion = json["apiVersion"]?.stringValue ?? ""
        time = json["time"]?.stringValue.flatMap(RFC3339.parse) ?? 0
        subresource = json["subresource"]?.stringValue ?? ""
        fields = FieldSet(fieldsV1: json["fieldsV1"] ?? [:])
    }

    /// The JSON form.
    public var json: JSONValue {
        var m: JSONObject = [
            "manager": .string(manager), "operation": .string(operation), "apiVersion": .string(apiVersion),
            "time": .string(RFC3339.format(time)), "fieldsType": "FieldsV1", "fieldsV1": fields.fieldsV1,
        ]
        if !subresource.isEmpty { m["subresource"] = .string(subresource) }
        return .object(m)
    }

    func isSameOwner(manager: String, operation: String, subresource: String) -> Bool {
        self.manager == manager && self.operation == operation && self.subresource == subresource
    }
}

/// A field of an apply configuration that another manager owns with a different value.
public struct ApplyConflict: Sendable, Equatable {
    public var manager: String
    public var path: String
}

/// The conflicts that stopped an apply.
public struct ApplyConflicts: Error, Sendable, Equatable {
    public var conflicts: [ApplyConflict]
}

/// Server-side apply and field ownership (`managedFields`), driven by a resource's structural schema.
public struct FieldManager: Sendable {
    let schema: Schema
    let apiVersion: String

    /// Metadata members managers can own.
    static let ownableMetadata: Set<String> = ["f:labels", "f:annotations", "f:finalizers", "f:ownerReferences"]

    /// Creates a field manager for objects of `schema`, tracked at `apiVersion`.
    public init(schema: Schema, apiVersion: String) {
        self.schema = schema
        self.apiVersion = apiVersion
    }

    /// The fields of a whole object managers can own (not apiVersion, kind, or system metadata).
    public func ownableFields(of object: JSONValue) -> FieldSet {
        var set = schema.fieldSet(of: object)
        set.children["f:apiVersion"] = nil
        set.children["f:kind"] = nil
        if var metadata = set.children["f:metadata"] {
            metadata.children = metadata.children.filter { Self.ownableMetadata.contains($0.key) }
            metadata.isMember = false
            set.children["f:metadata"] = metadata.isEmpty ? nil : metadata
        }
        return set
    }

    /// The entries after `manager` wrote `new` over `old` with a non-apply operation: it owns what it changed,
    /// and nobody owns what it removed.
    public func update(
        old: JSONValue?, new: JSONValue, entries: [ManagedFieldsEntry], manager: String, subresource: String, now: Int64
    ) -> [ManagedFieldsEntry] {
        let newSet = ownableFields(of: new)
        let oldSet = old.map(ownableFields(of:)) ?? FieldSet()
        var changed = FieldSet()
        for path in newSet.paths {
            if !oldSet.contains(path) {
                changed.insert(path)
            } else if isLeaf(path, in: newSet), schema.value(at: path, in: old ?? .null) != schema.value(at: path, in: new) {
                changed.insert(path)
            }
        }
        let removed = oldSet.subtracting(newSet)
        var result: [ManagedFieldsEntry] = []
        var found = false
        for var entry in entries {
            entry.fields = entry.fields.subtracting(removed)
            if entry.isSameOwner(manager: manager, operation: "Update", subresource: subresource) {
                found = true
                if !changed.isEmpty {
                    entry.fields = entry.fields.union(changed)
                    entry.time = now
                }
            } else {
                entry.fields = entry.fields.subtracting(changed)
            }
            if !entry.fields.isEmpty { result.append(entry) }
        }
        if !found && !changed.isEmpty {
            result.append(
                ManagedFieldsEntry(
                    manager: manager, operation: "Update", apiVersion: apiVersion, time: now, subresource: subresource, fields: changed))
        }
        return result
    }

    /// Server-side apply of `config` by `manager` onto `live` (nil when creating). Returns the merged object and
    /// entries, or the conflicts (fields other managers own with other values) unless `force` takes them over.
    public func apply(
        live: JSONValue?, config: JSONValue, entries: [ManagedFieldsEntry], manager: String, force: Bool,
        subresource: String, now: Int64
    ) -> Result<(object: JSONValue, entries: [ManagedFieldsEntry]), ApplyConflicts> {
        let configSet = ownableFields(of: config)
        var conflicts: [ApplyConflict] = []
        var updated = entries
        for index in updated.indices where !updated[index].isSameOwner(manager: manager, operation: "Apply", subresource: subresource) {
            for path in configSet.intersection(updated[index].fields).paths where isLeaf(path, in: configSet) {
                if schema.value(at: path, in: live ?? .null) != schema.value(at: path, in: config) {
                    conflicts.append(ApplyConflict(manager: updated[index].manager, path: FieldSet.render(path)))
                    if force { updated[index].fields.remove(path) }
                }
            }
        }
        if !conflicts.isEmpty && !force { return .failure(ApplyConflicts(conflicts: conflicts)) }
        let previous =
            updated.first { $0.isSameOwner(manager: manager, operation: "Apply", subresource: subresource) }?.fields ?? FieldSet()
        let ownedByOthers = updated.filter { !$0.isSameOwner(manager: manager, operation: "Apply", subresource: subresource) }
            .reduce(FieldSet()) { $0.union($1.fields) }
        var object = live ?? .object([:])
        // Fields this manager applied before and no longer applies go, unless someone else still owns them.
        for path in previous.subtracting(configSet).subtracting(ownedByOthers).paths where isLeaf(path, in: previous) {
            object = schema.removing(path, from: object)
        }
        object = schema.merged(object, config)
        var result = updated.filter {
            !$0.isSameOwner(manager: manager, operation: "Apply", subresource: subresource) && !$0.fields.isEmpty
        }
        let entry = ManagedFieldsEntry(
            manager: manager, operation: "Apply", apiVersion: apiVersion, time: now, subresource: subresource, fields: configSet)
        if let index = entries.firstIndex(where: { $0.isSameOwner(manager: manager, operation: "Apply", subresource: subresource) }) {
            result.insert(entry, at: min(index, result.count))
        } else {
            result.append(entry)
        }
        return .success((object, result))
    }

    private func isLeaf(_ path: [String], in set: FieldSet) -> Bool {
        var node = set
        for element in path {
            guard let child = node.children[element] else { return false }
            node = child
        }
        return node.children.isEmpty
    }

    /// Parses `metadata.managedFields`.
    public static func entries(_ json: JSONValue?) -> [ManagedFieldsEntry] {
        (json?.arrayValue ?? []).map(ManagedFieldsEntry.init(json:))
    }

    /// The `metadata.managedFields` JSON, or nil when empty.
    public static func json(_ entries: [ManagedFieldsEntry]) -> JSONValue? {
        entries.isEmpty ? nil : .array(entries.map(\.json))
    }
}
