public import ApoxyAPI
import ApoxyStorage

extension ResourceStore {
    // MARK: Update (PUT)

    /// Replaces an object (PUT) or its status (PUT on `/status`). `metadata.resourceVersion` is required and must be
    /// current, as kube-apiserver requires for custom resources.
    public func update(
        name: String, namespace: String = "", body: [UInt8], subresource: Subresource, options: WriteOptions
    ) async throws(StatusError) -> WriteResult<Object> {
        var schemaErrors: [FieldError] = []
        let (json, warnings) = try decodeBody(body, fieldValidation: options.fieldValidation, schemaErrors: &schemaErrors)
        let bodyName = json["metadata"]?["name"]?.stringValue ?? ""
        guard bodyName == name else {
            throw .badRequest("the name of the object (\(bodyName)) does not match the name on the URL (\(name))")
        }
        let resourceVersion = json["metadata"]?["resourceVersion"]?.stringValue ?? ""
        guard !resourceVersion.isEmpty else {
            throw StatusError.invalid(
                kind: descriptor.kind, group: descriptor.group, name: name,
                [FieldError(.invalid, "metadata.resourceVersion", .string("0x0"), "must be specified for an update")])
        }
        guard let expected = Int64(resourceVersion), expected > 0 else {
            throw .badRequest("invalid resourceVersion \"\(resourceVersion)\": must be a positive integer")
        }
        let stored: StoredObject
        if let cached = cachedCopy(name: name, namespace: namespace, at: expected) {
            // The cache already holds the object at the revision the client names: start from it (kube's
            // GuaranteedUpdate with a cached existing object). The write is guarded by that revision, so a newer
            // object in storage still answers 409; this saves a storage round trip per PUT.
            stored = cached
        } else {
            let read = try await run(name: name) { try await storage.get(key: key(name, namespace)) }
            guard let read else { throw .notFound(groupResource, name) }
            stored = read
        }
        guard stored.modRevision == expected else { throw .conflict(groupResource, name) }
        return try await commitUpdate(
            name: name, namespace: namespace, stored: stored, json: json, schemaErrors: schemaErrors, warnings: warnings,
            subresource: subresource, options: options)
    }

    /// The object as storage holds it, rebuilt from the watch cache, when the cache has reached `revision` and the
    /// object's last write is exactly `revision`; nil otherwise (the caller reads storage).
    func cachedCopy(name: String, namespace: String, at revision: Int64) -> StoredObject? {
        guard let cache, let entry = cache.entry(named: path(name, namespace), freshAt: revision), let object = entry,
            object.revision == revision
        else {
            return nil
        }
        return StoredObject(key: key(name, namespace), value: encode(object.decoded()), createRevision: 0, modRevision: revision)
    }

    // MARK: Patch

    /// Patches an object or its status with a JSON patch or merge patch. A `resourceVersion` in the patch is a
    /// precondition; without one, a concurrent write is retried on the fresh object, as kube does.
    public func patch(
        name: String, namespace: String = "", type: PatchType, body: [UInt8], subresource: Subresource, options: WriteOptions
    ) async throws(StatusError) -> WriteResult<Object> {
        if options.force && type != .apply {
            throw StatusError.invalid(
                kind: "PatchOptions", group: "meta.k8s.io", name: "",
                [FieldError(.forbidden, "force", nil, "may not be specified for non-apply patch")])
        }
        let parsed: ParsedJSON
        do {
            parsed = try JSONValue.parse(body)
        } catch {
            throw .badRequest("error decoding patch: \(error.message)")
        }
        if type == .apply {
            return try await apply(name: name, namespace: namespace, config: parsed, subresource: subresource, options: options)
        }
        let jsonPatch: JSONPatch?
        switch type {
        case .apply:
            jsonPatch = nil
        case .json:
            do {
                jsonPatch = try JSONPatch(parsed.value)
            } catch {
                throw .badRequest(error.message)
            }
        case .merge:
            jsonPatch = nil
            guard case .object = parsed.value else {
                throw .badRequest("error decoding patch: a merge patch must be a JSON object")
            }
        }
        var lastError = StatusError.conflict(groupResource, name)
        for _ in 0..<5 {
            let stored = try await run(name: name) { try await storage.get(key: key(name, namespace)) }
            guard let stored else { throw .notFound(groupResource, name) }
            let current = try decode(stored).json
            let patched: JSONValue
            if let jsonPatch {
                do {
                    patched = try jsonPatch.apply(to: current)
                } catch {
                    if error.kind == .invalidDocument { throw .badRequest(error.message) }
                    throw StatusError(code: 422, reason: .invalid, message: error.message)
                }
            } else {
                patched = JSONMergePatch.apply(parsed.value, to: current)
            }
            let patchedVersion = patched["metadata"]?["resourceVersion"]?.stringValue ?? ""
            let hasPrecondition = !patchedVersion.isEmpty && patchedVersion != String(stored.modRevision)
            if hasPrecondition { throw .conflict(groupResource, name) }
            let patchedName = patched["metadata"]?["name"]?.stringValue ?? ""
            guard patchedName == name else {
                throw .badRequest("the name of the object (\(patchedName)) does not match the name on the URL (\(name))")
            }
            var schemaErrors: [FieldError] = []
            let (json, warnings) = try checkDocument(
                patched, duplicateFields: type == .merge ? parsed.duplicateFields : [],
                fieldValidation: options.fieldValidation, schemaErrors: &schemaErrors)
            do {
                return try await commitUpdate(
                    name: name, namespace: namespace, stored: stored, json: json, schemaErrors: schemaErrors, warnings: warnings,
                    subresource: subresource, options: options)
            } catch  where error.reason == .conflict && error.code == 409 {
                lastError = error
                continue
            }
        }
        throw lastError
    }

    // MARK: Shared update path

    /// Applies kube's update rules to a checked document and writes it guarded by `stored.modRevision`.
    func commitUpdate(
        name: String, namespace: String, stored: StoredObject, json: JSONValue, schemaErrors: [FieldError], warnings: [String],
        subresource: Subresource, options: WriteOptions, managedFields: [ManagedFieldsEntry]? = nil
    ) async throws(StatusError) -> WriteResult<Object> {
        let old = try decode(stored)
        let oldJSON = old.json
        var object: Object
        var relevantSchemaErrors: [FieldError]
        var metadataErrors: [FieldError] = []
        func isStatusField(_ field: String) -> Bool { field == "status" || field.hasPrefix("status.") }
        switch subresource {
        case .main:
            // Writes to the main resource ignore status.
            var merged = json.removingMember("status")
            if let status = oldJSON["status"] { merged["status"] = status }
            object = Object(json: merged)
            relevantSchemaErrors = schemaErrors.filter { !isStatusField($0.field) }
            if !object.metadata.uid.isEmpty, object.metadata.uid != old.metadata.uid {
                metadataErrors.append(FieldError(.invalid, "metadata.uid", .string(object.metadata.uid), "field is immutable"))
            }
            object.metadata.uid = old.metadata.uid
            object.metadata.creationTimestamp = old.metadata.creationTimestamp
            object.metadata.deletionTimestamp = old.metadata.deletionTimestamp
            object.metadata.deletionGracePeriodSeconds = old.metadata.deletionGracePeriodSeconds
            object.metadata.generation = old.metadata.generation
            if strategy.tracksGeneration, strategy.specChanged(old: oldJSON, new: merged) { object.metadata.generation += 1 }
            if old.metadata.deletionTimestamp != nil {
                let added = object.metadata.finalizers.filter { !old.metadata.finalizers.contains($0) }
                if !added.isEmpty {
                    metadataErrors.append(
                        FieldError(
                            .forbidden, "metadata.finalizers", nil,
                            "no new finalizers can be added if the object is being deleted, found new finalizers []string{\(added.map { "\"\($0)\"" }.joined(separator: ", "))}"
                        ))
                }
            }
        case .status:
            // Writes to /status change only status.
            var merged = oldJSON
            merged["status"] = json["status"]
            if json["status"] == nil { merged = merged.removingMember("status") }
            object = Object(json: merged)
            relevantSchemaErrors = schemaErrors.filter { isStatusField($0.field) }
        }
        try scope(&object, to: namespace)
        object.metadata.resourceVersion = ""
        // Ownership: an apply brings its own entries; any other write owns what it changed.
        var ownershipBase = oldJSON
        ownershipBase["metadata"]?["resourceVersion"] = nil
        let entries =
            managedFields
            ?? fieldManager.update(
                old: ownershipBase, new: object.json, entries: FieldManager.entries(old.metadata.managedFields),
                manager: options.manager, subresource: subresource == .status ? "status" : "", now: now())
        object.metadata.managedFields = FieldManager.json(entries)
        try validate(object, schemaErrors: relevantSchemaErrors, extra: metadataErrors, old: old)
        let encoded = encode(object)
        if encoded == stored.value {
            // A no-op update writes nothing and keeps the resourceVersion, as kube does.
            return WriteResult(object: old, warnings: warnings, created: false)
        }
        let finishesDeletion = object.metadata.deletionTimestamp != nil && object.metadata.finalizers.isEmpty
        if options.dryRun {
            object.metadata.resourceVersion = old.metadata.resourceVersion
            return WriteResult(object: object, warnings: warnings, created: false)
        }
        if finishesDeletion {
            let change = try await run(name: name) {
                try await storage.delete(key: key(name, namespace), expectedRevision: stored.modRevision)
            }
            object.metadata.resourceVersion = String(change.revision)
            return WriteResult(object: object, warnings: warnings, created: false)
        }
        let written = try await run(name: name) {
            try await storage.update(key: key(name, namespace), value: encoded, expectedRevision: stored.modRevision)
        }
        object.metadata.resourceVersion = String(written.modRevision)
        return WriteResult(object: object, warnings: warnings, created: false)
    }
}

extension ResourceStore {
    // MARK: Server-side apply

    /// Server-side apply (`application/apply-patch+yaml`): merges the configuration with field ownership, answers
    /// 409 listing each conflicting field and its manager unless `force`, and creates a missing object (201).
    func apply(
        name: String, namespace: String, config parsed: ParsedJSON, subresource: Subresource, options: WriteOptions
    ) async throws(StatusError) -> WriteResult<Object> {
        guard let manager = options.fieldManager, !manager.isEmpty else {
            throw StatusError.invalid(
                kind: "PatchOptions", group: "meta.k8s.io", name: "",
                [FieldError(.required, "fieldManager", nil, "is required for apply patch")])
        }
        var configErrors: [FieldError] = []
        // Ownership comes from what the configuration says, not from server defaults.
        let (config, warnings) = try checkDocument(
            parsed.value, duplicateFields: parsed.duplicateFields, fieldValidation: options.fieldValidation,
            schemaErrors: &configErrors, applyDefaults: false)
        // The merge below starts from the pruned configuration, so refused members would vanish silently: report them now.
        let refused = configErrors.filter { $0.kind == .forbidden }
        if !refused.isEmpty {
            throw StatusError.invalid(kind: descriptor.kind, group: descriptor.group, name: name, refused)
        }
        let configName = config["metadata"]?["name"]?.stringValue ?? ""
        guard configName == name else {
            throw .badRequest("the name of the object (\(configName)) does not match the name on the URL (\(name))")
        }
        let subresourceName = subresource == .status ? "status" : ""
        var lastError = StatusError.conflict(groupResource, name)
        for _ in 0..<5 {
            let stored = try await run(name: name) { try await storage.get(key: key(name, namespace)) }
            let live = try stored.map { stored throws(StatusError) in try decode(stored) }
            if let version = config["metadata"]?["resourceVersion"]?.stringValue, !version.isEmpty,
                version != live?.metadata.resourceVersion
            {
                throw live == nil ? .notFound(groupResource, name) : .conflict(groupResource, name)
            }
            var liveJSON = live?.json
            liveJSON?["metadata"]?["resourceVersion"] = nil
            let outcome = fieldManager.apply(
                live: liveJSON, config: config, entries: FieldManager.entries(live?.metadata.managedFields),
                manager: manager, force: options.force, subresource: subresourceName, now: now())
            let merged: JSONValue
            let entries: [ManagedFieldsEntry]
            switch outcome {
            case .failure(let failure):
                throw Self.conflictError(failure.conflicts, apiVersion: descriptor.apiVersion, resource: groupResource, name: name)
            case .success(let result):
                (merged, entries) = result
            }
            var schemaErrors: [FieldError] = []
            let (checked, _) = try checkDocument(merged, duplicateFields: [], fieldValidation: .ignore, schemaErrors: &schemaErrors)
            guard let stored else {
                if subresource == .status { throw .notFound(groupResource, name) }
                do {
                    return try await create(
                        json: checked, namespace: namespace, warnings: warnings, schemaErrors: schemaErrors, options: options,
                        managedFields: entries)
                } catch  where error.reason == .alreadyExists {
                    continue  // created concurrently: apply onto it
                }
            }
            var withVersion = checked
            withVersion["metadata"]?["resourceVersion"] = .string(String(stored.modRevision))
            do {
                return try await commitUpdate(
                    name: name, namespace: namespace, stored: stored, json: withVersion, schemaErrors: schemaErrors, warnings: warnings,
                    subresource: subresource, options: options, managedFields: entries)
            } catch  where error.reason == .conflict && error.code == 409 {
                lastError = error
                continue
            }
        }
        throw lastError
    }

    static func conflictError(_ conflicts: [ApplyConflict], apiVersion: String, resource: GroupResource, name: String) -> StatusError {
        let byManager = Dictionary(grouping: conflicts, by: \.manager)
        var parts: [String] = []
        for manager in byManager.keys.sorted() {
            let paths = byManager[manager]!.map(\.path)
            if paths.count == 1 {
                parts.append("conflict with \"\(manager)\" using \(apiVersion): \(paths[0])")
            } else {
                parts.append("conflicts with \"\(manager)\" using \(apiVersion):\n" + paths.map { "- \($0)" }.joined(separator: "\n"))
            }
        }
        let noun = conflicts.count == 1 ? "conflict" : "conflicts"
        return StatusError(
            code: 409, reason: .conflict, message: "Apply failed with \(conflicts.count) \(noun): " + parts.joined(separator: "\n"),
            name: name, group: resource.group, kind: resource.resource,
            causes: conflicts.map { FieldError(.fieldManagerConflict, $0.path, nil, "conflict with \"\($0.manager)\" using \(apiVersion)") }
        )
    }
}
