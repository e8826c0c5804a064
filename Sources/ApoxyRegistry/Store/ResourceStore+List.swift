public import ApoxyAPI
import ApoxyStorage
import Foundation

extension ResourceStore {
    /// Lists objects with label and field selectors, `limit`/`continue` pagination at one consistent revision, and
    /// `resourceVersion`/`resourceVersionMatch` semantics.
    public func list(options: ListOptions) async throws(StatusError) -> ObjectList<Object> {
        let (revision, cursor) = try await startingPoint(options)
        if let limit = options.limit, limit < 0 { throw .badRequest("limit must be non-negative") }
        let limit = options.limit.flatMap { $0 > 0 ? $0 : nil }
        let filtering = !options.labelSelector.isEmpty || !options.fieldSelector.isEmpty

        // metadata.name=X without paging is a point read (in one namespace, for a namespaced resource).
        if let name = options.fieldSelector.exactName, options.continueToken == nil, revision == nil, limit == nil,
            !descriptor.namespaced || options.namespace != nil
        {
            let stored = try await run(name: name) { try await storage.get(key: key(name, options.namespace ?? "")) }
            let current = try await run(name: "") { try await storage.currentRevision() }
            var items: [Object] = []
            if let stored {
                let object = try decode(stored)
                if matches(object, options) { items.append(object) }
            }
            return ObjectList(items: items, resourceVersion: String(current), continueToken: nil, remainingItemCount: nil)
        }

        if let cached = try await listFromCache(
            options, limit: limit, filtering: filtering, continuing: cursor != nil, exact: revision != nil)
        {
            return cached
        }
        return try await listFromStorage(options, revision: revision, cursor: cursor, limit: limit, filtering: filtering)
    }

    /// Where a list starts: the revision and key a `continue` token names, or the revision `resourceVersion` with
    /// `resourceVersionMatch=Exact` names (nil: the latest), after checking the combination as kube does.
    func startingPoint(_ options: ListOptions) async throws(StatusError) -> (revision: Int64?, cursor: String?) {
        if let token = options.continueToken, !token.isEmpty {
            let decoded = try Self.decodeContinue(token)
            return (decoded.revision, keyPrefix + decoded.start)
        }
        if let version = options.resourceVersion, !version.isEmpty, version != "0" {
            guard let requested = Int64(version), requested > 0 else {
                throw .badRequest("invalid resourceVersion \"\(version)\": must be a positive integer")
            }
            switch options.resourceVersionMatch ?? "" {
            case "Exact":
                return (requested, nil)
            case "NotOlderThan", "":
                let current = try await run(name: "") { try await storage.currentRevision() }
                if requested > current {
                    throw StatusError(
                        code: 504, reason: .timeout,
                        message: "Too large resource version: \(requested), current: \(current)", retryAfterSeconds: 1)
                }
                return (nil, nil)
            default:
                throw .badRequest(
                    "resourceVersionMatch: Unsupported value: \"\(options.resourceVersionMatch ?? "")\": supported values: \"Exact\", \"NotOlderThan\""
                )
            }
        }
        if let match = options.resourceVersionMatch, !match.isEmpty, match == "Exact" || options.resourceVersion == nil {
            throw .badRequest("resourceVersionMatch is forbidden unless resourceVersion is provided (and not 0 for Exact)")
        }
        return (nil, nil)
    }

    /// Pages through storage at one revision until `limit` objects match (all of them without a limit); the last page
    /// names where the next one starts.
    func listFromStorage(
        _ options: ListOptions, revision: Int64?, cursor start: String?, limit: Int?, filtering: Bool
    ) async throws(StatusError) -> ObjectList<Object> {
        var items: [Object] = []
        var listRevision = revision
        var cursor = start
        var nextStart: String?
        var remaining: Int64?
        page: while true {
            let wanted = limit.map { filtering ? max($0 - items.count, 256) : $0 - items.count }
            let page: StorageListResult
            do {
                page = try await storage.list(prefix: listPrefix(options), revision: listRevision, startAfter: cursor, limit: wanted)
            } catch let error as StorageError {
                if case .compacted = error.code, options.continueToken != nil {
                    throw .expired(
                        "The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter."
                    )
                }
                throw statusError(for: error, name: "")
            } catch {
                throw .internalError("\(error)")
            }
            listRevision = page.revision
            for (i, stored) in page.items.enumerated() {
                cursor = stored.key
                let object = try decode(stored)
                guard !filtering || matches(object, options) else { continue }
                items.append(object)
                if let limit, items.count == limit {
                    let more = i < page.items.count - 1 || page.remaining > 0
                    if more {
                        nextStart = String(stored.key.dropFirst(keyPrefix.count))
                        if !filtering { remaining = Int64(page.remaining + page.items.count - 1 - i) }
                    }
                    break page
                }
            }
            if page.remaining == 0 || page.items.isEmpty { break }
        }
        let finalRevision: Int64
        if let listRevision {
            finalRevision = listRevision
        } else {
            finalRevision = try await run(name: "") { try await storage.currentRevision() }
        }
        return ObjectList(
            items: items, resourceVersion: String(finalRevision),
            continueToken: nextStart.map { Self.encodeContinue(revision: finalRevision, start: $0) },
            remainingItemCount: remaining)
    }

    /// Serves a first page at the latest revision from the watch cache (consistent: it first catches up with
    /// storage's current revision); later pages come from storage at the same revision.
    func listFromCache(
        _ options: ListOptions, limit: Int?, filtering: Bool, continuing: Bool, exact: Bool
    ) async throws(StatusError) -> ObjectList<Object>? {
        guard let cache, !continuing, !exact else { return nil }
        let version = options.resourceVersion ?? ""
        let target: Int64
        if version == "0" {
            target = 0
        } else if let requested = Int64(version) {
            target = requested
        } else {
            // A consistent list: from the cache only when its watch is known to reach the current revision in order.
            guard storage.watchReachesCurrentRevisionInOrder else { return nil }
            target = try await run(name: "") { try await storage.currentRevision() }
        }
        guard await cache.waitUntilFresh(target) else { return nil }
        let scoped = descriptor.namespaced && options.namespace != nil
        if !filtering && limit == nil && !scoped {
            let (json, revision) = cache.snapshotJSON()
            return ObjectList(encodedItems: json, resourceVersion: String(revision), continueToken: nil, remainingItemCount: nil)
        }
        let (entries, revision) = cache.snapshot()
        let selected = filtering || scoped ? entries.filter { matches($0, options) } : entries
        guard let limit, selected.count > limit else {
            return ObjectList(
                encodedItems: selected.map(\.json), resourceVersion: String(revision), continueToken: nil, remainingItemCount: nil)
        }
        let page = selected.prefix(limit)
        return ObjectList(
            encodedItems: page.map(\.json), resourceVersion: String(revision),
            continueToken: Self.encodeContinue(revision: revision, start: page[page.endIndex - 1].path),
            remainingItemCount: filtering ? nil : Int64(selected.count - limit))
    }

    /// The storage prefix a list reads: the resource's, or one namespace's.
    func listPrefix(_ options: ListOptions) -> String {
        guard descriptor.namespaced, let namespace = options.namespace else { return keyPrefix }
        return keyPrefix + namespace + "/"
    }

    func inScope(_ namespace: String, _ options: ListOptions) -> Bool {
        !descriptor.namespaced || options.namespace == nil || options.namespace == namespace
    }

    func matches(_ object: Object, _ options: ListOptions) -> Bool {
        inScope(object.metadata.namespace, options)
            && options.labelSelector.matches(object.metadata.labels)
            && options.fieldSelector.matches { field in
                field == "metadata.name" ? object.metadata.name : selectableFields.value(of: field, in: object.json)
            }
    }

    func matches(_ object: CachedObject, _ options: ListOptions) -> Bool {
        inScope(object.namespace, options)
            && options.labelSelector.matches(object.labels)
            && options.fieldSelector.matches { field in
                field == "metadata.name" ? object.name : selectableFields.value(of: field, in: object.fieldValues)
            }
    }

    /// Field selectors this resource accepts.
    public var supportedFieldSelectors: [String] { ["metadata.name"] + selectableFields.names }

    static func encodeContinue(revision: Int64, start: String) -> String {
        let json: JSONValue = ["v": "meta.k8s.io/v1", "rv": .integer(revision), "start": .string(start)]
        return Data(json.serialized()).base64EncodedString()
    }

    static func decodeContinue(_ token: String) throws(StatusError) -> (revision: Int64, start: String) {
        guard let data = Data(base64Encoded: token), let json = try? JSONValue.parse(Array(data)).value,
            json["v"]?.stringValue == "meta.k8s.io/v1", let revision = json["rv"]?.integerValue, revision > 0,
            let start = json["start"]?.stringValue
        else {
            throw .badRequest("continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)")
        }
        return (revision, start)
    }
}
