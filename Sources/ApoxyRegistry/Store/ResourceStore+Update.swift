import ApoxyAPI
import ApoxyStorage

extension ResourceStore {
    // MARK: Update (PUT)

    /// Replaces an object (PUT) or its status (PUT on `/status`). `metadata.resourceVersion` is required and must be
    /// current, as kube-apiserver requires for custom resources.
    public func update(
        name: String, body: [UInt8], subresource: Subresource, options: WriteOptions
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
        let stored = try await run(name: name) { try await storage.get(key: key(name)) }
        guard let stored else { throw .notFound(groupResource, name) }
        guard stored.modRevision == expected else { throw .conflict(groupResource, name) }
        return try await commitUpdate(
            name: name, stored: stored, json: json, schemaErrors: schemaErrors, warnings: warnings,
            subresource: subresource, options: options)
    }

    // MARK: Patch

    /// Patches an object or its status with a JSON patch or merge patch. A `resourceVersion` in the patch is a
    /// precondition; without one, a concurrent write is retried on the fresh object, as kube does.
    public func patch(
        name: String, type: PatchType, body: [UInt8], subresource: Subresource, options: WriteOptions
    ) async throws(StatusError) -> WriteResult<Object> {
        let parsed: ParsedJSON
        do {
            parsed = try JSONValue.parse(body)
        } catch {
            throw .badRequest("error decoding patch: \(error.message)")
        }
        let jsonPatch: JSONPatch?
        switch type {
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
            let stored = try await run(name: name) { try await storage.get(key: key(name)) }
            guard let stored else { throw .notFound(groupResource, name) }
            let current = try decode(stored).json
            let patched: JSONValue
            if let jsonPatch {
                do {
                    patched = try jsonPatch.apply(to: current)
                } catch {
                    if error.kind == .invalidDocument { throw .badRequest(error.message) }
                    throw StatusError(code: 422, reason: "Invalid", message: error.message)
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
                    name: name, stored: stored, json: json, schemaErrors: schemaErrors, warnings: warnings,
                    subresource: subresource, options: options)
            } catch where error.reason == "Conflict" && error.code == 409 {
                lastError = error
                continue
            }
        }
        throw lastError
    }

    // MARK: Shared update path

    /// Applies kube's update rules to a checked document and writes it guarded by `stored.modRevision`.
    func commitUpdate(
        name: String, stored: StoredObject, json: JSONValue, schemaErrors: [FieldError], warnings: [String],
        subresource: Subresource, options: WriteOptions
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
            if strategy.specChanged(old: oldJSON, new: merged) { object.metadata.generation += 1 }
            if old.metadata.deletionTimestamp != nil {
                let added = object.metadata.finalizers.filter { !old.metadata.finalizers.contains($0) }
                if !added.isEmpty {
                    metadataErrors.append(
                        FieldError(
                            .forbidden, "metadata.finalizers", nil,
                            "no new finalizers can be added if the object is being deleted, found new finalizers []string{\(added.map { "\"\($0)\"" }.joined(separator: ", "))}"))
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
        object.metadata.resourceVersion = ""
        try validate(object, schemaErrors: relevantSchemaErrors, extra: metadataErrors)
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
            let change = try await run(name: name) { try await storage.delete(key: key(name), expectedRevision: stored.modRevision) }
            object.metadata.resourceVersion = String(change.revision)
            return WriteResult(object: object, warnings: warnings, created: false)
        }
        let written = try await run(name: name) {
            try await storage.update(key: key(name), value: encoded, expectedRevision: stored.modRevision)
        }
        object.metadata.resourceVersion = String(written.modRevision)
        return WriteResult(object: object, warnings: warnings, created: false)
    }
}
