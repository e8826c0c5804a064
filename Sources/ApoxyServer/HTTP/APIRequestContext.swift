import Hummingbird
import NIOCore

/// The request context of the API server: Hummingbird's core context plus the connection's channel, which a long
/// watch checks so that a client that went away stops costing the server anything, even when no event matches it.
public struct APIRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// The connection this request arrived on (for HTTP/2: the request's stream; its parent is the connection).
    public let channel: any Channel
    /// Who sent the request, once authentication has run.
    public var user: UserInfo?
    /// Where the audit middleware collects what inner middleware learn, when auditing.
    var audit: AuditRecord?

    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.channel = source.channel
    }
}
