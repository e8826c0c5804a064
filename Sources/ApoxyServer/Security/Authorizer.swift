public import ApoxyAPI
import Hummingbird

/// What an authorizer decided.
public enum AuthorizationDecision: Sendable, Equatable {
    case allow
    /// Not allowed; `reason` (may be empty) is appended to the 403 message as kube does.
    case deny(reason: String)
}

/// Decides whether a user may do something (kube's `authorizer.Authorizer`).
public protocol Authorizer: Sendable {
    /// The decision for `user` doing `request`; must be quick (it runs on every request).
    func authorize(_ user: UserInfo, _ request: AccessAttributes) -> AuthorizationDecision
}

/// `--authorization-mode AlwaysAllow`.
public struct AlwaysAllowAuthorizer: Authorizer {
    /// Creates the authorizer.
    public init() {}

    public func authorize(_ user: UserInfo, _ request: AccessAttributes) -> AuthorizationDecision { .allow }
}

/// `--authorization-mode`.
public enum AuthorizationMode: String, Sendable, CaseIterable {
    case alwaysAllow = "AlwaysAllow"
    case rbac = "RBAC"
}

extension AccessAttributes {
    /// kube's `RequestInfoFactory.NewRequestInfo`: `/apis/<group>/<version>/[namespaces/<namespace>/]<resource>
    /// [/<name>[/<subresource>]]` and `/api/v1/...` are resource requests (`/api/v1/namespaces/<name>` is the
    /// Namespace itself, in its own namespace) with the verb from the method (GET of a
    /// collection is `list`, or `watch` with `?watch=true`); anything else is a non-resource request whose verb is
    /// the lower-cased method.
    static func resolve(method: String, path: String, query: QueryParameters) -> AccessAttributes {
        let lowerMethod = method.lowercased()
        let parts = path.split(separator: "/").map(String.init)
        var rest: ArraySlice<String>
        var group = ""
        var version = ""
        if parts.first == "apis", parts.count >= 4 {
            group = parts[1]
            version = parts[2]
            rest = parts[3...]
        } else if parts.first == "api", parts.count >= 3 {
            version = parts[1]
            rest = parts[2...]
        } else {
            return .nonResource(verb: lowerMethod, path: path)
        }
        var namespace = ""
        if rest.first == "namespaces", rest.count > 1 {
            namespace = rest[rest.startIndex + 1]
            if rest.count > 2 { rest = rest.dropFirst(2) }
        }
        let resource = rest.removeFirst()
        let name = rest.first ?? ""
        let subresource = rest.dropFirst().first ?? ""
        var verb: String
        switch lowerMethod {
        case "get", "head":
            verb = name.isEmpty ? "list" : "get"
            let watchFlag = query["watch"]
            if verb == "list", watchFlag == "true" || watchFlag == "1" { verb = "watch" }
        case "post": verb = "create"
        case "put": verb = "update"
        case "patch": verb = "patch"
        case "delete": verb = name.isEmpty ? "deletecollection" : "delete"
        default: verb = lowerMethod
        }
        return .resource(
            verb: verb, apiGroup: group, apiVersion: version, resource: resource, subresource: subresource, name: name, namespace: namespace
        )
    }
}

/// Refuses what the authorizer does not allow, with kube's 403 Status (kube's authorization filter).
struct AuthorizationMiddleware: RouterMiddleware {
    typealias Context = APIRequestContext
    let authorizer: any Authorizer

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let attributes = AccessAttributes.resolve(
            method: request.method.rawValue, path: request.uri.path, query: QueryParameters(request.uri.query))
        let user = context.user ?? .anonymous
        if case .deny(let reason) = authorizer.authorize(user, attributes) {
            throw StatusError.forbidden(user: user.name, attributes, reason: reason)
        }
        return try await next(request, context)
    }
}
