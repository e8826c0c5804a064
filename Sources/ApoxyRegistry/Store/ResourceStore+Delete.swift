public import ApoxyAPI
import ApoxyStorage

extension ResourceStore {
    /// Deletes an object: at once without finalizers, otherwise by setting `deletionTimestamp` (the object goes
    /// when its last finalizer is removed). Preconditions on uid and resourceVersion give 409.
    public func delete(name: String, namespace: String = "", options: DeleteOptions) async throws(StatusError) -> DeleteOutcome<Object> {
        for _ in 0..<5 {
            let stored = try await run(name: name) { try await storage.get(key: key(name, namespace)) }
            guard let stored else { throw .notFound(groupResource, name) }
            var object = try decode(stored)
            if let uid = options.preconditionUID, uid != object.metadata.uid {
                throw .conflict(
                    groupResource, name,
                    "Precondition failed: UID in precondition: \(uid), UID in object meta: \(object.metadata.uid)")
            }
            if let version = options.preconditionResourceVersion, version != object.metadata.resourceVersion {
                throw .conflict(
                    groupResource, name,
                    "Precondition failed: ResourceVersion in precondition: \(version), ResourceVersion in object meta: \(object.metadata.resourceVersion)"
                )
            }
            if !object.metadata.finalizers.isEmpty {
                if object.metadata.deletionTimestamp != nil { return .pending(object) }
                object.metadata.deletionTimestamp = now()
                object.metadata.deletionGracePeriodSeconds = 0
                if strategy.tracksGeneration { object.metadata.generation += 1 }
                if options.dryRun { return .pending(object) }
                do {
                    let written = try await storage.update(
                        key: key(name, namespace), value: encode(object), expectedRevision: stored.modRevision)
                    object.metadata.resourceVersion = String(written.modRevision)
                    return .pending(object)
                } catch let error as StorageError {
                    if case .conflict = error.code { continue }
                    throw statusError(for: error, name: name)
                } catch {
                    throw .internalError("\(error)")
                }
            }
            if options.dryRun { return .deleted(object) }
            do {
                let change = try await storage.delete(key: key(name, namespace), expectedRevision: stored.modRevision)
                object.metadata.resourceVersion = String(change.revision)
                return .deleted(object)
            } catch let error as StorageError {
                if case .conflict = error.code { continue }
                throw statusError(for: error, name: name)
            } catch {
                throw .internalError("\(error)")
            }
        }
        throw .conflict(groupResource, name)
    }

    /// Deletes every object the list options select; returns their last states (kube's DeleteCollection).
    public func deleteCollection(listOptions: ListOptions, options: DeleteOptions) async throws(StatusError) -> ObjectList<Object> {
        var selection = listOptions
        selection.limit = nil
        selection.continueToken = nil
        let targets = try await list(options: selection)
        var deleted: [Object] = []
        for target in targets.items {
            var perObject = options
            perObject.preconditionUID = nil
            perObject.preconditionResourceVersion = nil
            do {
                switch try await delete(name: target.metadata.name, namespace: target.metadata.namespace, options: perObject) {
                case .deleted(let object), .pending(let object): deleted.append(object)
                }
            } catch  where error.code == 404 {
                continue  // deleted concurrently
            }
        }
        let revision = try await run(name: "") { try await storage.currentRevision() }
        return ObjectList(items: deleted, resourceVersion: String(revision), continueToken: nil, remainingItemCount: nil)
    }
}
