public import ApoxyAPI

extension RouteSource {
    /// Reads the routing part of a stored `HTTPRoute` (gateway.apoxy.dev/v1); the API server has already validated
    /// and defaulted it, so this only fills what a hand-written test input may leave out.
    public init(httpRoute object: JSONValue) {
        let spec = object["spec"] ?? .object([:])
        let rules = (spec["rules"]?.arrayValue ?? []).map { rule in
            let matches = (rule["matches"]?.arrayValue ?? []).map { match in
                Match(
                    pathType: Match.PathType(rawValue: match["path"]?["type"]?.stringValue ?? "PathPrefix") ?? .pathPrefix,
                    path: match["path"]?["value"]?.stringValue ?? "/",
                    headers: (match["headers"]?.arrayValue ?? []).map {
                        Match.Header(name: $0["name"]?.stringValue ?? "", value: $0["value"]?.stringValue ?? "")
                    },
                    method: match["method"]?.stringValue)
            }
            let refs = (rule["backendRefs"]?.arrayValue ?? []).map { ref in
                BackendRef(
                    name: ref["name"]?.stringValue ?? "", port: ref["port"]?.integerValue.map { Int($0) },
                    weight: Int(ref["weight"]?.integerValue ?? 1))
            }
            let timeout = rule["timeouts"]?["request"]?.stringValue.flatMap { try? GoDuration(parsing: $0) }
            return Rule(matches: matches, backendRefs: refs, requestTimeout: timeout)
        }
        self.init(
            name: object["metadata"]?["name"]?.stringValue ?? "",
            generation: object["metadata"]?["generation"]?.integerValue ?? 1,
            hostnames: (spec["hostnames"]?.arrayValue ?? []).compactMap(\.stringValue),
            rules: rules)
    }
}
