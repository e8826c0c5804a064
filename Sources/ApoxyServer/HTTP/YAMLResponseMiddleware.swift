import ApoxyAPI
import ApoxyYAML
import HTTPTypes
import Hummingbird
import NIOCore

/// `Accept: application/yaml`: the JSON a handler (or the Status of an error) answers is sent as YAML, as
/// kube-apiserver does for every verb but watch.
struct YAMLResponseMiddleware<Context: RequestContext>: RouterMiddleware {
    /// Whether the client prefers YAML: the first type it lists that this server serves is `application/yaml`.
    static func wantsYAML(_ accept: String?) -> Bool {
        for mediaType in MediaType.list(accept) {
            switch mediaType.type {
            case "application/yaml": return true
            case "application/json", "*/*", "application/*", KubeProtobuf.mediaType: return false
            default: continue
            }
        }
        return false
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard Self.wantsYAML(request.headers[.accept]) else { return try await next(request, context) }
        if QueryParameters(request.uri.query).flag("watch") {
            // Outside the status middleware: the Status is answered here, in JSON, as kube does for what it cannot encode.
            return APIResponse.status(
                .notAcceptable("only the following media types are accepted: application/json, application/json;stream=watch"))
        }
        var response = try await next(request, context)
        guard response.headers[.contentType]?.hasPrefix("application/json") == true else { return response }
        let collector = Collector()
        try await response.body.write(collector)
        guard let json = try? JSONValue.parse(collector.buffer.readableBytesView).value else { return response }
        response.headers[.contentType] = "application/yaml"
        var yaml = YAMLCoding.serialize(json)
        if !yaml.hasSuffix("\n") { yaml += "\n" }
        response.body = ResponseBody(byteBuffer: ByteBuffer(string: yaml))
        return response
    }

    /// Gathers a whole response body (bounded by what a non-watch handler produces); a class, because the body
    /// consumes the writer it is given.
    final class Collector: ResponseBodyWriter {
        var buffer = ByteBuffer()
        func write(_ buffer: ByteBuffer) async throws {
            var buffer = buffer
            self.buffer.writeBuffer(&buffer)
        }
        func finish(_ trailingHeaders: HTTPFields?) async throws {}
    }
}
