import ApoxyAPI
import HTTPTypes
import Hummingbird
import Logging
import NIOCore

/// Builds HTTP responses carrying JSON documents.
enum APIResponse {
    static let warningHeader = HTTPField.Name("Warning")!

    /// A JSON response.
    static func json(_ value: JSONValue, status: HTTPResponse.Status = .ok, warnings: [String] = [], pretty: Bool = false) -> Response {
        let bytes = pretty ? value.prettySerialized() : value.serialized()
        return raw(bytes, status: status, warnings: warnings)
    }

    /// A response with already-serialised JSON.
    static func raw(_ bytes: [UInt8], status: HTTPResponse.Status = .ok, warnings: [String] = []) -> Response {
        raw(ByteBuffer(bytes: bytes), status: status, warnings: warnings)
    }

    /// A response with already-serialised JSON in a buffer.
    static func raw(_ body: ByteBuffer, status: HTTPResponse.Status = .ok, warnings: [String] = []) -> Response {
        var headers: HTTPFields = [.contentType: "application/json"]
        for warning in warnings {
            // Warning: 299 - "text" (RFC 7234), as kube-apiserver sends them.
            let escaped = warning.replacingAll("\\", with: "\\\\").replacingAll("\"", with: "\\\"")
            headers.append(HTTPField(name: warningHeader, value: "299 - \"\(escaped)\""))
        }
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: body))
    }

    /// The `Status` document for an error: the one place errors become HTTP responses.
    static func status(_ error: StatusError) -> Response {
        var response = json(error.json, status: HTTPResponse.Status(code: error.code))
        if let retry = error.retryAfterSeconds { response.headers[.retryAfter] = String(retry) }
        return response
    }
}

extension String {
    func replacingAll(_ target: String, with replacement: String) -> String {
        guard contains(target) else { return self }
        return split(separator: target, omittingEmptySubsequences: false).joined(separator: replacement)
    }
}

/// Turns every error a handler throws into a kube `Status` response.
struct StatusErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    let logger: Logger

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as StatusError {
            return APIResponse.status(error)
        } catch is NIOTooManyBytesError {
            return APIResponse.status(.requestEntityTooLarge(limit: APIServerConfiguration.maxRequestBodyBytes))
        } catch let error as HTTPError where error.status == .notFound {
            return APIResponse.status(
                StatusError(code: 404, reason: .notFound, message: "the server could not find the requested resource"))
        } catch let error as HTTPError where error.status == .methodNotAllowed {
            return APIResponse.status(.methodNotAllowed("the server does not allow this method on the requested resource"))
        } catch let error as HTTPError {
            return APIResponse.status(
                StatusError(
                    code: Int(error.status.code), reason: StatusReason(code: Int(error.status.code)),
                    message: error.body ?? error.status.reasonPhrase))
        } catch {
            logger.error("unhandled error", metadata: ["error": "\(error)", "path": "\(request.uri.path)"])
            return APIResponse.status(.internalError("\(error)"))
        }
    }
}
