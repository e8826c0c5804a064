public import Hummingbird
public import NIOCore
import Synchronization

/// The request context of the API server: Hummingbird's core context plus the connection's channel, which a long
/// watch checks so that a client that went away stops costing the server anything, even when no event matches it.
public struct APIRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// The connection this request arrived on (for HTTP/2: the request's stream; its parent is the connection).
    public let channel: any Channel
    /// Who sent the request, once authentication has run.
    public var user: UserInfo?
    /// Where outer middleware (audit, metrics, access log) collect what inner middleware learn.
    var record: RequestRecord?

    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.channel = source.channel
    }
}

/// The parts of a request that inner middleware learn (the user), shared with the outer middleware that record the
/// request after its response (audit, access log).
final class RequestRecord: Sendable {
    private let user = Mutex<UserInfo?>(nil)

    func setUser(_ value: UserInfo?) { user.withLock { $0 = value } }
    var recordedUser: UserInfo? { user.withLock { $0 } }
}
