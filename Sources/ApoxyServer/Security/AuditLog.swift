import ApoxyAPI
import Foundation
import Hummingbird
import Synchronization

/// `--audit-log-path`: one JSON line per request in kube's `audit.k8s.io/v1` Event shape, at stage
/// ResponseComplete (for a watch: when its response starts, the one line it gets). `-` is stdout.
public final class AuditLog: Sendable {
    private let handle: Mutex<FileHandle>

    /// Opens (appending) or creates the log at `path`.
    public init(path: String) throws {
        if path == "-" {
            handle = Mutex(FileHandle.standardOutput)
        } else {
            if !FileManager.default.fileExists(atPath: path) {
                _ = FileManager.default.createFile(atPath: path, contents: nil, attributes: [.posixPermissions: 0o600])
            }
            let file = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
            file.seekToEndOfFile()
            handle = Mutex(file)
        }
    }

    /// Appends one event; a line is written with one call, so concurrent requests never interleave.
    func write(_ event: JSONValue) {
        var line = event.serialized()
        line.append(UInt8(ascii: "\n"))
        let data = Data(line)
        handle.withLock { $0.write(data) }
    }
}

/// Writes an audit event for every request once its response is ready; outermost, so it sees 401s and 403s.
struct AuditMiddleware: RouterMiddleware {
    typealias Context = APIRequestContext
    let log: AuditLog

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let received = Date()
        var context = context
        // The telemetry middleware outside may have made the record already.
        let record = context.record ?? RequestRecord()
        context.record = record
        let access = AccessAttributes.resolve(
            method: request.method.rawValue, path: request.uri.path, query: QueryParameters(request.uri.query))
        var code = 500
        defer {
            log.write(
                Self.event(request: request, context: context, access: access, user: record.recordedUser, code: code, received: received))
        }
        // The status middleware inside turns errors into responses, so this sees every code sent.
        let response = try await next(request, context)
        code = Int(response.status.code)
        return response
    }

    static func event(
        request: Request, context: Context, access: AccessAttributes, user: UserInfo?, code: Int, received: Date
    ) -> JSONValue {
        var event: JSONObject = [
            "kind": "Event", "apiVersion": "audit.k8s.io/v1", "level": "Metadata",
            "auditID": .string(UUID().uuidString.lowercased()), "stage": "ResponseComplete",
            "requestURI": .string(request.uri.string), "verb": .string(access.verb),
            "user": user.map(userJSON) ?? .object([:]),
            "sourceIPs": .array(sourceIP(context).map { [.string($0)] } ?? []),
            "responseStatus": ["metadata": [:], "code": .integer(Int64(code))],
            "requestReceivedTimestamp": .string(microTime(received)),
            "stageTimestamp": .string(microTime(Date())),
        ]
        if let agent = request.headers[.userAgent] { event["userAgent"] = .string(agent) }
        if access.isResourceRequest {
            var ref: JSONObject = ["resource": .string(access.resource), "apiVersion": .string(access.apiVersion)]
            if !access.apiGroup.isEmpty { ref["apiGroup"] = .string(access.apiGroup) }
            if !access.name.isEmpty { ref["name"] = .string(access.name) }
            if !access.namespace.isEmpty { ref["namespace"] = .string(access.namespace) }
            if !access.subresource.isEmpty { ref["subresource"] = .string(access.subresource) }
            event["objectRef"] = .object(ref)
        }
        return .object(event)
    }

    static func userJSON(_ user: UserInfo) -> JSONValue {
        var m: JSONObject = ["username": .string(user.name), "groups": .array(user.groups.map { .string($0) })]
        if !user.uid.isEmpty { m["uid"] = .string(user.uid) }
        return .object(m)
    }

    static func sourceIP(_ context: Context) -> String? {
        // An h2 stream reports its connection's peer; an HTTP/1.1 connection's parent is the listening socket.
        (context.channel.remoteAddress ?? context.channel.parent?.remoteAddress)?.ipAddress
    }

    /// RFC 3339 with microseconds in UTC (`metav1.MicroTime`).
    static func microTime(_ date: Date) -> String {
        let seconds = date.timeIntervalSince1970
        let whole = Int64(seconds.rounded(.down))
        let micros = String(min(999_999, Int64(((seconds - Double(whole)) * 1_000_000).rounded(.down))))
        return String(RFC3339.format(whole).dropLast()) + "." + String(repeating: "0", count: 6 - micros.count) + micros + "Z"
    }
}
