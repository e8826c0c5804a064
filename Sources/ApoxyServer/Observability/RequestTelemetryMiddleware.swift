import ApoxyAPI
import Hummingbird
import Logging

/// Outermost middleware: counts and times every request under kube's metric names and writes one access-log line
/// for it (kube's httplog fields: verb, URI, latency, user agent, user, source, code), both when the response is
/// complete, so a watch is recorded when it ends.
struct RequestTelemetryMiddleware: RouterMiddleware {
    typealias Context = APIRequestContext
    let metrics: APIMetrics?
    let logger: Logger
    /// Access-log lines are written at `.info`; nothing is built when the logger is above it.
    let accessLog: Bool

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let started = ContinuousClock.now
        var context = context
        let record = RequestRecord()
        context.record = record
        let query = QueryParameters(request.uri.query)
        let access = AccessAttributes.resolve(method: request.method.rawValue, path: request.uri.path, query: query)
        let verb = APIMetrics.reportedVerb(method: request.method.rawValue, access: access, contentType: request.headers[.contentType])
        let dryRun = query["dryRun"] != nil
        // What only the access log needs is read only when it is written.
        let logged = accessLog && logger.logLevel <= .info
        let line =
            logged ? (uri: request.uri.string, agent: request.headers[.userAgent] ?? "", source: AuditMiddleware.sourceIP(context)) : nil
        let finish: @Sendable (Int) -> Void = { [metrics, logger] code in
            let duration = ContinuousClock.now - started
            metrics?.record(verb: verb, dryRun: dryRun, access: access, code: code, duration: duration)
            guard let line else { return }
            var metadata: Logger.Metadata = [
                "verb": "\(verb)", "URI": "\(line.uri)", "latency": "\(Self.format(duration))", "resp": "\(code)",
                "userAgent": "\(line.agent)",
            ]
            if let user = record.recordedUser { metadata["user"] = "\(user.name)" }
            if let source = line.source { metadata["srcIP"] = "\(source)" }
            logger.info("HTTP", metadata: metadata)
        }
        // The status middleware inside turns errors into responses; what still escapes is answered 500 by Hummingbird.
        let response: Response
        do {
            response = try await next(request, context)
        } catch {
            finish(500)
            throw error
        }
        let code = Int(response.status.code)
        guard access.verb == "watch", code == 200 else {
            finish(code)
            return response
        }
        var streamed = response
        let body = response.body
        streamed.body = ResponseBody { writer in
            defer { finish(code) }
            try await body.write(writer)
        }
        return streamed
    }

    /// A latency as Go prints a `time.Duration` in kube's logs, to the microsecond: `1.234ms`, `2.5s`.
    static func format(_ duration: Duration) -> String {
        let micros = duration.components.seconds * 1_000_000 + duration.components.attoseconds / 1_000_000_000_000
        if micros < 1000 { return "\(micros)µs" }
        if micros < 1_000_000 { return trimmed(Double(micros) / 1000) + "ms" }
        return trimmed(Double(micros) / 1_000_000) + "s"
    }

    private static func trimmed(_ value: Double) -> String {
        var text = String(format3: value)
        while text.hasSuffix("0") { text.removeLast() }
        if text.hasSuffix(".") { text.removeLast() }
        return text
    }
}

extension String {
    /// Three decimals without Foundation's formatter.
    init(format3 value: Double) {
        let scaled = Int64((value * 1000).rounded())
        let fraction = String(scaled % 1000)
        self = "\(scaled / 1000)." + String(repeating: "0", count: 3 - fraction.count) + fraction
    }
}
