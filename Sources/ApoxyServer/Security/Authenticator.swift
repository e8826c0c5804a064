import ApoxyAPI
public import Hummingbird
import NIOCore
import NIOSSL
import SwiftASN1
import X509

/// What one authenticator concluded about a request.
public enum AuthenticationOutcome: Sendable, Equatable {
    /// The credential it handles identifies this user.
    case authenticated(UserInfo)
    /// The request carries no credential of its kind.
    case notPresented
    /// The request carries a credential of its kind that is not valid (kube answers 401 whatever else is there).
    case rejected
}

/// One way of telling who sent a request (kube's `authenticator.Request`).
public protocol Authenticator: Sendable {
    /// Examines `request` (and its connection in `context`).
    func authenticate(_ request: Request, context: APIRequestContext) async -> AuthenticationOutcome
}

/// Static bearer tokens (`--token-auth-file`): `Authorization: Bearer <token>`.
public struct TokenFileAuthenticator: Authenticator {
    let users: [String: UserInfo]

    /// Authenticates the tokens of a parsed token file.
    public init(users: [String: UserInfo]) { self.users = users }

    public func authenticate(_ request: Request, context: APIRequestContext) async -> AuthenticationOutcome {
        // kube's bearertoken: a header that is not `Bearer <token>` is not ours to judge.
        guard let header = request.headers[.authorization] else { return .notPresented }
        let parts = header.trimmingSpaces.split(separator: " ", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count >= 2, parts[0].lowercased() == "bearer", !parts[1].isEmpty else { return .notPresented }
        return users[String(parts[1])].map { .authenticated($0) } ?? .rejected
    }
}

/// Client certificates: the TLS handshake already verified a presented certificate against `--client-ca-file`
/// (an invalid one never gets this far); its subject's CN is the user and its O values the groups.
public struct ClientCertificateAuthenticator: Authenticator {
    /// Creates the authenticator.
    public init() {}

    public func authenticate(_ request: Request, context: APIRequestContext) async -> AuthenticationOutcome {
        // On HTTP/1.1 the request's channel is the connection; an h2 stream's TLS handler sits on its parent.
        // (An HTTP/1.1 connection's parent is the listening socket, so the connection must be tried first.)
        let peer: NIOSSLCertificate?
        if let own = try? await context.channel.nioSSL_peerCertificate().get() {
            peer = own
        } else if let parent = context.channel.parent {
            peer = try? await parent.nioSSL_peerCertificate().get() ?? nil
        } else {
            peer = nil
        }
        guard let peer else { return .notPresented }
        guard let der = try? peer.toDERBytes(), let certificate = try? Certificate(derEncoded: der) else { return .rejected }
        var name = ""
        var groups: [String] = []
        for rdn in certificate.subject {
            for attribute in rdn {
                if attribute.type == .RDNAttributeType.commonName, let value = String(attribute.value) { name = value }
                if attribute.type == .RDNAttributeType.organizationName, let value = String(attribute.value) { groups.append(value) }
            }
        }
        guard !name.isEmpty else { return .rejected }
        return .authenticated(UserInfo(name: name, groups: groups))
    }
}

extension String {
    /// Without leading and trailing spaces and tabs (Go's strings.TrimSpace for header values).
    var trimmingSpaces: Substring {
        var text = Substring(self)
        while let first = text.first, first == " " || first == "\t" { text = text.dropFirst() }
        while let last = text.last, last == " " || last == "\t" { text = text.dropLast() }
        return text
    }
}

/// How requests are authenticated.
public struct AuthenticationConfiguration: Sendable {
    /// Tried in order; the first that authenticates wins.
    public var authenticators: [any Authenticator]
    /// Whether a request with no credential is served as `system:anonymous` (`--anonymous-auth`).
    public var anonymous: Bool

    /// Creates a configuration; with no authenticators every request is anonymous.
    public init(authenticators: [any Authenticator] = [], anonymous: Bool = true) {
        self.authenticators = authenticators
        self.anonymous = anonymous
    }
}

/// Sets the request's user (kube's authentication filter): the first authenticator that knows the caller, or
/// anonymous; 401 when a credential was presented but is invalid, or when none was and anonymous is off. Every
/// authenticated user is also in `system:authenticated`.
struct AuthenticationMiddleware: RouterMiddleware {
    typealias Context = APIRequestContext
    let configuration: AuthenticationConfiguration

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var context = context
        var rejected = false
        for authenticator in configuration.authenticators {
            switch await authenticator.authenticate(request, context: context) {
            case .authenticated(let user):
                context.user = user.addingAuthenticatedGroup
                context.record?.setUser(context.user)
                return try await next(request, context)
            case .rejected:
                rejected = true
            case .notPresented:
                continue
            }
        }
        guard !rejected, configuration.anonymous else { throw StatusError.unauthorized }
        context.user = .anonymous
        context.record?.setUser(context.user)
        return try await next(request, context)
    }
}
