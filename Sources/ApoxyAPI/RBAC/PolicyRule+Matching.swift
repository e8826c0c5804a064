/// What a request asks to do, as kube's `authorizer.Attributes` (without the user).
public struct AccessAttributes: Sendable, Hashable {
    /// `get`, `list`, `watch`, `create`, `update`, `patch`, `delete`, `deletecollection`; for non-resource
    /// requests the lower-cased HTTP method (`get`, `post`, ...).
    public var verb: String
    /// False for paths outside `/api` and `/apis/<group>/<version>/...` (`/healthz`, `/version`, discovery).
    public var isResourceRequest: Bool
    public var apiGroup: String
    public var apiVersion: String
    public var resource: String
    public var subresource: String
    public var name: String
    /// The namespace of a namespaced resource request ("" at the cluster scope).
    public var namespace: String = ""
    /// The request path (for non-resource requests).
    public var path: String

    /// A resource request.
    public static func resource(
        verb: String, apiGroup: String, apiVersion: String = "", resource: String, subresource: String = "", name: String = "",
        namespace: String = ""
    ) -> AccessAttributes {
        AccessAttributes(
            verb: verb, isResourceRequest: true, apiGroup: apiGroup, apiVersion: apiVersion, resource: resource,
            subresource: subresource, name: name, namespace: namespace, path: "")
    }

    /// A non-resource request.
    public static func nonResource(verb: String, path: String) -> AccessAttributes {
        AccessAttributes(
            verb: verb, isResourceRequest: false, apiGroup: "", apiVersion: "", resource: "", subresource: "", name: "", path: path)
    }
}

extension PolicyRule {
    /// Whether this rule allows `request` (kube's `RuleAllows` in plugin/pkg/auth/authorizer/rbac/rbac.go).
    public func allows(_ request: AccessAttributes) -> Bool {
        guard verbs.contains("*") || verbs.contains(request.verb) else { return false }
        if request.isResourceRequest {
            let combined = request.subresource.isEmpty ? request.resource : request.resource + "/" + request.subresource
            return (apiGroups.contains("*") || apiGroups.contains(request.apiGroup))
                && resourceMatches(combined, subresource: request.subresource)
                && (resourceNames.isEmpty || resourceNames.contains(request.name))
        }
        return nonResourceURLs.contains { rule in
            // A trailing `*` (any number of them, as Go's strings.TrimRight) makes the rest a prefix.
            rule == "*" || rule == request.path
                || (rule.hasSuffix("*") && request.path.hasPrefix(String(rule.reversed().drop { $0 == "*" }.reversed())))
        }
    }

    /// kube's `ResourceMatches`: `*`, the exact `resource[/subresource]`, or `*/subresource`.
    func resourceMatches(_ combined: String, subresource: String) -> Bool {
        resources.contains { rule in
            rule == "*" || rule == combined || (!subresource.isEmpty && rule == "*/" + subresource)
        }
    }
}

extension Subject {
    /// Whether this subject names the user `name` or one of `groups` (kube's `appliesToUser`; a ServiceAccount
    /// subject matches the user `system:serviceaccount:<namespace>:<name>`).
    public func applies(toUser name: String, groups: [String]) -> Bool {
        switch kind {
        case "User": return self.name == name
        case "Group": return groups.contains(self.name)
        case "ServiceAccount": return !namespace.isEmpty && name == "system:serviceaccount:\(namespace):\(self.name)"
        default: return false
        }
    }
}
