import ApoxyAPI
import ApoxyClient
import Logging
public import NIOSSL
import Synchronization

/// Where the control plane finds the API server, and how it proves who it is there.
public struct APIEndpoint: Sendable {
    public var host: String
    public var port: Int
    /// HTTPS with these settings (trusted CA, client certificate); nil is plain HTTP.
    public var tls: TLSConfiguration?
    /// The name sent as SNI and checked against the server's certificate, when not `host` (kubeconfig's
    /// `tls-server-name`).
    public var serverName: String?
    /// A bearer token sent on every request (kubeconfig's `token` / `tokenFile`).
    public var bearerToken: String?
    /// The deadline of every request but a watch, instead of the defaults (30 s a write, 60 s a list page).
    public var requestTimeout: Duration?

    /// Creates an endpoint.
    public init(
        host: String, port: Int, tls: TLSConfiguration? = nil, serverName: String? = nil, bearerToken: String? = nil,
        requestTimeout: Duration? = nil
    ) {
        self.host = host
        self.port = port
        self.tls = tls
        self.serverName = serverName
        self.bearerToken = bearerToken
        self.requestTimeout = requestTimeout
    }

    /// The headers of every request: `Accept: application/json`, the User-Agent the API's access log and
    /// `managedFields` name it by (and `extra`), plus the credentials.
    func headers(_ extra: [(String, String)] = []) -> [(String, String)] {
        var headers = [("Accept", "application/json"), ("User-Agent", "apoxy-backplane")] + extra
        if let bearerToken { headers.append(("Authorization", "Bearer \(bearerToken)")) }
        return headers
    }
}

/// The current objects of one resource, kept in sync with the API server by list and watch (a Kubernetes
/// reflector): relists after a 410 or a dropped connection, with a capped backoff.
final class APIWatcher: Sendable {
    let api: APIConnection
    let path: String
    let logger: Logger
    /// The objects (nil before the first list), the names whose translation input changed since `takeChanges`, and
    /// the names that changed in any way (status included) since `takeStatusChanges`.
    private let state = Mutex<(objects: [String: JSONValue]?, dirty: Set<String>, statusDirty: Set<String>)>((nil, [], []))
    private let changes: AsyncStream<Void>.Continuation
    /// Told about status-only changes, which need no translation but may need a status write (another backplane's
    /// write can have dropped this one's entry).
    private let statusChanges: AsyncStream<Void>.Continuation?

    init(
        api: APIConnection, path: String, logger: Logger, changes: AsyncStream<Void>.Continuation,
        statusChanges: AsyncStream<Void>.Continuation? = nil
    ) {
        self.api = api
        self.path = path
        self.logger = logger
        self.changes = changes
        self.statusChanges = statusChanges
    }

    /// The objects by name, or nil before the first list.
    var current: [String: JSONValue]? { state.withLock { $0.objects } }

    /// The objects whose translation input changed since the last call (nil for a deleted one), or nil before the
    /// first list; the translator needs only these.
    func takeChanges() -> [String: JSONValue?]? {
        state.withLock { state in
            guard let objects = state.objects else { return nil }
            var changes: [String: JSONValue?] = [:]
            for name in state.dirty { changes[name] = .some(objects[name]) }
            state.dirty = []
            return changes
        }
    }

    /// The objects that changed in any way since the last call, status writes included: the status writer looks at
    /// these (and at what the translation changed) instead of every object.
    func takeStatusChanges() -> Set<String> {
        state.withLock { state in
            defer { state.statusDirty = [] }
            return state.statusDirty
        }
    }

    /// Marks every current object changed, so the next `takeChanges` returns them all (a translator starting over).
    func markAllChanged() {
        state.withLock { state in
            if let objects = state.objects { state.dirty.formUnion(objects.keys) }
        }
    }

    /// Lists and watches until cancelled.
    func run() async {
        var backoff: Duration = .milliseconds(100)
        while !Task.isCancelled {
            do {
                try await listAndWatch()
                backoff = .milliseconds(100)
            } catch is CancellationError {
                return
            } catch {
                logger.info("watch of \(path) ended; listing again", metadata: ["error": "\(error)"])
                try? await Task.sleep(for: backoff)
                backoff = min(backoff * 2, .seconds(5))
            }
        }
    }

    /// Whether two versions of an object translate identically: same spec and generation.
    static func sameTranslationInput(_ a: JSONValue, _ b: JSONValue) -> Bool {
        a["spec"] == b["spec"] && a["metadata"]?["generation"] == b["metadata"]?["generation"]
    }

    struct WatchEnded: Error, CustomStringConvertible {
        var description: String
    }

    /// The objects a list asks for, in pages as client-go's reflector reads them (`limit=500`), so a large collection is
    /// never one response body; every page is at the first one's revision, which the watch starts from.
    private func list() async throws -> (items: [String: JSONValue], resourceVersion: String) {
        var items: [String: JSONValue] = [:]
        var continueToken: String?
        while true {
            let query = [("limit", String(Self.pageSize))] + (continueToken.map { [("continue", $0)] } ?? [])
            let page = try await api.request("GET", path + RequestTarget.query(query), timeout: .seconds(60))
            guard page.status == 200 else { throw WatchEnded(description: "list returned \(page.status): \(page.text)") }
            let body = try JSONValue.parse(page.body).value
            for item in body["items"]?.arrayValue ?? [] {
                if let name = item["metadata"]?["name"]?.stringValue { items[name] = item }
            }
            let next = body["metadata"]?["continue"]?.stringValue ?? ""
            if next.isEmpty { return (items, body["metadata"]?["resourceVersion"]?.stringValue ?? "0") }
            continueToken = next
        }
    }

    /// Objects per list page, client-go's reflector default.
    static let pageSize = 500

    private func listAndWatch() async throws {
        let (items, resourceVersion) = try await list()
        state.withLock { state in
            // A relist after a gap: what changed meanwhile, and what was deleted, is not known from events.
            let previous = state.objects ?? [:]
            for (name, item) in items where previous[name].map({ !Self.sameTranslationInput($0, item) }) ?? true {
                state.dirty.insert(name)
            }
            for name in previous.keys where items[name] == nil { state.dirty.insert(name) }
            // Any stored status may have changed during the gap.
            state.statusDirty.formUnion(items.keys)
            state.objects = items
        }
        changes.yield()

        try await watch(from: resourceVersion)
    }

    private func watch(from resourceVersion: String) async throws {
        let (response, lines) = try await api.watch("\(path)?watch=1&allowWatchBookmarks=true&resourceVersion=\(resourceVersion)")
        guard response.status == 200 else { throw WatchEnded(description: "watch returned \(response.status)") }
        for try await line in lines where !line.isEmpty {
            let event = try JSONValue.parse(line)
            let object = event["object"] ?? .null
            switch event["type"]?.stringValue {
            case "ADDED", "MODIFIED":
                guard let name = object["metadata"]?["name"]?.stringValue else { continue }
                // Status writes (ours included) and metadata-only edits do not change Envoy's configuration: the
                // object is kept for the status writer, but nothing is translated again.
                let previous = state.withLock { state in
                    let previous = state.objects?[name]
                    state.objects?[name] = object
                    state.statusDirty.insert(name)
                    if previous.map({ !Self.sameTranslationInput($0, object) }) ?? true { state.dirty.insert(name) }
                    return previous
                }
                if let previous, Self.sameTranslationInput(previous, object) {
                    if previous["status"] != object["status"] { statusChanges?.yield() }
                    continue
                }
            case "DELETED":
                guard let name = object["metadata"]?["name"]?.stringValue else { continue }
                state.withLock { state in
                    if state.objects?.removeValue(forKey: name) != nil { state.dirty.insert(name) }
                }
            case "BOOKMARK":
                continue
            default:
                throw WatchEnded(description: "watch error: \(object["message"]?.stringValue ?? line)")
            }
            changes.yield()
        }
        throw WatchEnded(description: "watch closed by the server")
    }
}

extension APIEndpoint {
    /// Runs `body` with a connection pool to the API server, and closes it afterwards, whatever happens.
    func withConnection<T: Sendable>(_ body: (APIConnection) async throws -> T) async throws -> T {
        try await PooledHTTPClient.withClient(host: host, port: port, tls: tls, serverName: serverName) { http in
            try await body(APIConnection(endpoint: self, http: http))
        }
    }
}

/// Pooled connections to the API server, sending the endpoint's identity and credentials on every request. One per
/// control plane: watches, lists, status writes and Events share it, instead of a connection per write.
struct APIConnection: Sendable {
    let endpoint: APIEndpoint
    let http: PooledHTTPClient

    /// Sends a request and reads the whole response, within the endpoint's `requestTimeout`, else `timeout`.
    func request(
        _ method: String, _ path: String, contentType: String? = nil, body: [UInt8]? = nil, timeout: Duration = .seconds(30)
    ) async throws -> HTTPClientResponse {
        try await http.request(
            method, path, headers: endpoint.headers(contentType.map { [("Content-Type", $0)] } ?? []), body: body,
            timeout: endpoint.requestTimeout ?? timeout)
    }

    /// Opens a watch: the response head, then the events line by line, until the server ends it.
    func watch(_ target: String) async throws -> (response: HTTPClientResponse, lines: LineSequence<ResponseBodyChunks>) {
        try await http.streamLines("GET", target, headers: endpoint.headers())
    }
}
