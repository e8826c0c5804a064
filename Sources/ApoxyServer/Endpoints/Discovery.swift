import ApoxyAPI

/// The discovery documents (`/api`, `/apis`, `/apis/<group>`, `/apis/<group>/<version>`, `/version`) kubectl reads
/// before anything else, derived from the served resources.
struct Discovery: Sendable {
    let resources: [ResourceDescriptor]

    static let version: JSONValue = [
        "major": "1", "minor": "37", "gitVersion": "v1.37.0-apoxy.0.1.0", "gitCommit": "", "gitTreeState": "clean",
        "buildDate": "2026-11-27T00:00:00Z", "goVersion": "swift6", "compiler": "swift", "platform": "linux/amd64",
    ]

    /// `/api`: the core group's versions.
    var coreVersions: JSONValue {
        let versions: [JSONValue] = resources.contains { $0.group.isEmpty } ? ["v1"] : []
        return [
            "kind": "APIVersions", "versions": .array(versions),
            "serverAddressByClientCIDRs": [["clientCIDR": "0.0.0.0/0", "serverAddress": ""]],
        ]
    }

    func groupJSON(_ group: String) -> JSONValue? {
        let versions = resources.filter { $0.group == group }.map(\.version)
        guard let preferred = versions.first else { return nil }
        var seen = Set<String>()
        let unique = versions.filter { seen.insert($0).inserted }
        return [
            "name": .string(group),
            "versions": .array(unique.map { ["groupVersion": .string("\(group)/\($0)"), "version": .string($0)] }),
            "preferredVersion": ["groupVersion": .string("\(group)/\(preferred)"), "version": .string(preferred)],
        ]
    }

    /// The named groups (`/apis`); the core group ("") is served under `/api`.
    var groups: [String] {
        var seen = Set<String>()
        return resources.map(\.group).filter { !$0.isEmpty && seen.insert($0).inserted }
    }

    var groupList: JSONValue {
        ["kind": "APIGroupList", "apiVersion": "v1", "groups": .array(groups.compactMap(groupJSON))]
    }

    func group(_ name: String) -> JSONValue? {
        guard case .object(var members) = groupJSON(name) else { return nil }
        members["kind"] = "APIGroup"
        members["apiVersion"] = "v1"
        return .object(members)
    }

    func resourceList(group: String, version: String) -> JSONValue? {
        let served = resources.filter { $0.group == group && $0.version == version }
        guard !served.isEmpty else { return nil }
        var entries: [JSONValue] = []
        for r in served {
            entries.append([
                "name": .string(r.plural), "singularName": .string(r.singular), "namespaced": .bool(r.namespaced), "kind": .string(r.kind),
                "verbs": .array(r.verbs.map { .string($0) }),
                "shortNames": .array(r.shortNames.map { .string($0) }),
                "categories": .array(r.categories.map { .string($0) }),
                "storageVersionHash": .string(String(OpenAPIDocuments.hash(Array("\(r.group)/\(r.version)/\(r.kind)".utf8)).prefix(11))),
            ])
            if r.hasStatusSubresource {
                entries.append([
                    "name": .string("\(r.plural)/status"), "singularName": "", "namespaced": .bool(r.namespaced), "kind": .string(r.kind),
                    "verbs": ["get", "patch", "update"],
                ])
            }
        }
        return [
            "kind": "APIResourceList", "apiVersion": "v1", "groupVersion": .string(served[0].apiVersion), "resources": .array(entries),
        ]
    }
}

extension Discovery {
    /// The aggregated-discovery version a client asked for in `Accept` (`v2` or `v2beta1`), if any, in its order of preference.
    static func aggregatedVersion(accept: String?) -> String? {
        for mediaType in MediaType.list(accept) {
            if mediaType.type == "application/json", mediaType.parameters["g"] == "apidiscovery.k8s.io",
                mediaType.parameters["as"] == "APIGroupDiscoveryList", let version = mediaType.parameters["v"],
                version == "v2" || version == "v2beta1"
            {
                return version
            }
            if mediaType.type == "application/json" && mediaType.parameters["as"] == nil { return nil }
        }
        return nil
    }

    /// `APIGroupDiscoveryList` for `/apis` (every named group with its resources in one document), or for `/api`
    /// (the core group, named "").
    func aggregated(version: String, legacy: Bool) -> JSONValue {
        var items: [JSONValue] = []
        let listed = legacy ? (resources.contains { $0.group.isEmpty } ? [""] : []) : groups
        for group in listed {
            var versions: [JSONValue] = []
            var seen = Set<String>()
            for v in resources.filter({ $0.group == group }).map(\.version) where seen.insert(v).inserted {
                let served = resources.filter { $0.group == group && $0.version == v }
                let entries: [JSONValue] = served.map { r in
                    let kind: JSONValue = ["group": .string(r.group), "version": .string(r.version), "kind": .string(r.kind)]
                    var entry: JSONObject = [
                        "resource": .string(r.plural), "responseKind": kind, "scope": r.namespaced ? "Namespaced" : "Cluster",
                        "singularResource": .string(r.singular),
                        "verbs": .array(r.verbs.map { .string($0) }),
                        "shortNames": .array(r.shortNames.map { .string($0) }),
                    ]
                    if !r.categories.isEmpty { entry["categories"] = .array(r.categories.map { .string($0) }) }
                    if r.hasStatusSubresource {
                        entry["subresources"] = [["subresource": "status", "responseKind": kind, "verbs": ["get", "patch", "update"]]]
                    }
                    return .object(entry)
                }
                versions.append(["version": .string(v), "resources": .array(entries), "freshness": "Current"])
            }
            items.append(["metadata": ["name": .string(group)], "versions": .array(versions)])
        }
        return [
            "kind": "APIGroupDiscoveryList", "apiVersion": .string("apidiscovery.k8s.io/\(version)"), "metadata": [:],
            "items": .array(items),
        ]
    }
}
