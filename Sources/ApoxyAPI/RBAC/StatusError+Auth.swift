extension StatusError {
    /// 401 Unauthorized, as kube-apiserver answers a request whose credentials failed (or that has none when
    /// anonymous requests are off).
    public static let unauthorized = StatusError(code: 401, reason: .unauthorized, message: "Unauthorized")

    /// 403 Forbidden with kube's message (`responsewriters.forbiddenMessage` wrapped by `NewForbidden`):
    /// `backends.core.apoxy.dev "x" is forbidden: User "u" cannot delete resource "backends" in API group
    /// "core.apoxy.dev" at the cluster scope`, or `forbidden: User "u" cannot get path "/metrics"`.
    public static func forbidden(user: String, _ request: AccessAttributes, reason: String = "") -> StatusError {
        var detail: String
        if request.isResourceRequest {
            let resource = request.subresource.isEmpty ? request.resource : request.resource + "/" + request.subresource
            detail =
                "User \"\(user)\" cannot \(request.verb) resource \"\(resource)\" in API group \"\(request.apiGroup)\" "
                + (request.namespace.isEmpty ? "at the cluster scope" : "in the namespace \"\(request.namespace)\"")
        } else {
            detail = "User \"\(user)\" cannot \(request.verb) path \"\(request.path)\""
        }
        if !reason.isEmpty { detail += ": " + reason }
        let qualified = GroupResource(group: request.apiGroup, resource: request.resource)
        let message: String
        if request.resource.isEmpty {
            message = "forbidden: \(detail)"
        } else if request.name.isEmpty {
            message = "\(qualified) is forbidden: \(detail)"
        } else {
            message = "\(qualified) \"\(request.name)\" is forbidden: \(detail)"
        }
        return StatusError(
            code: 403, reason: .forbidden, message: message, name: request.name.isEmpty ? nil : request.name,
            group: request.apiGroup.isEmpty ? nil : request.apiGroup, kind: request.resource.isEmpty ? nil : request.resource)
    }
}
