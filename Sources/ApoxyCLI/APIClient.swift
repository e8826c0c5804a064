import ApoxyAPI
import ApoxyClient
import Foundation
import NIOCore
import NIOPosix
import NIOSSL

/// Talks to one API server for one command: opens the connection, adds auth and identity headers, and turns
/// transport failures and `Status` responses into `CLIError`s with the right exit code.
struct APIClient: Sendable {
    let target: ServerTarget

    /// The field manager for apply and the other writes.
    static let fieldManager = "apoxy-cli"
    /// The media type asking for the server-side Table.
    static let tableMediaType = "application/json;as=Table;v=v1;g=meta.k8s.io"

    /// Runs `body` with a session whose connections are pooled, and closes them afterwards, whatever happens.
    func withSession<T: Sendable>(_ body: (Session) async throws(CLIError) -> T) async throws(CLIError) -> T {
        let tls = try tlsConfiguration()
        let http = PooledHTTPClient(host: target.url.host, port: target.url.port, tls: tls, serverName: target.tls.serverName)
        let result: Result<T, CLIError>
        do {
            result = .success(try await body(Session(client: self, http: http)))
        } catch {
            result = .failure(error)
        }
        await http.shutdown()
        return try result.get()
    }

    /// The NIOSSL configuration for an https target, or nil for plain http.
    func tlsConfiguration() throws(CLIError) -> TLSConfiguration? {
        guard target.url.secure else { return nil }
        var configuration = TLSConfiguration.makeClientConfiguration()
        do {
            if let ca = target.tls.certificateAuthority {
                configuration.trustRoots = .certificates(try NIOSSLCertificate.fromPEMBytes(ca))
            }
            if let certificate = target.tls.clientCertificate {
                configuration.certificateChain = try NIOSSLCertificate.fromPEMBytes(certificate).map { .certificate($0) }
                guard let key = target.tls.clientKey else {
                    throw CLIError.client(.badInput, "kubeconfig: client-certificate given without client-key")
                }
                configuration.privateKey = .privateKey(try NIOSSLPrivateKey(bytes: key, format: .pem))
            }
        } catch let error as CLIError {
            throw error
        } catch {
            throw .client(.badInput, "kubeconfig: cannot load TLS certificates or key: \(error)")
        }
        if target.tls.insecureSkipVerify { configuration.certificateVerification = .none }
        return configuration
    }

    /// The error for a failure below HTTP: cannot connect (exit code 6), with the reason in words.
    static func connectionError(_ error: any Error, server: ServerURL?) -> CLIError {
        if let error = error as? CLIError { return error }
        let reason = describe(error)
        let place = server.map { " at \($0)" } ?? ""
        return .client(.cannotConnect, "cannot connect to the server\(place): \(reason)")
    }

    /// Short words for NIO's connection, DNS and TLS errors.
    static func describe(_ error: any Error) -> String {
        switch error {
        case let error as IOError:
            return String(cString: strerror(error.errnoCode)).lowercased()
        case let error as NIOConnectionError:
            if let first = error.connectionErrors.first { return describe(first.error) }
            if error.dnsAError != nil || error.dnsAAAAError != nil { return "cannot resolve host \(error.host)" }
            return "connection failed"
        case ChannelError.connectTimeout:
            return "connection timed out"
        case let error as NIOSSLError:
            return "TLS handshake failed: \(error)"
        case let error as BoringSSLError:
            return "TLS handshake failed: \(error)"
        case let error as NIOSSLExtraError:
            return "TLS handshake failed: \(error)"
        case let error as HTTPClientError:
            return error.message
        default:
            return "\(error)"
        }
    }

    /// The error a non-2xx response stands for: the server's `Status` message, every cause on its own line, and
    /// the exit code of its kind.
    static func statusError(_ response: HTTPClientResponse) -> CLIError {
        statusError(code: response.status, body: response.body)
    }

    /// The error for an HTTP status `code` and its body (a `Status`, normally).
    static func statusError(code httpCode: Int, body: [UInt8]) -> CLIError {
        let bodyText = String(decoding: body, as: UTF8.self)
        guard let status = try? JSONValue.parse(bodyText), status["kind"]?.stringValue == "Status" else {
            let text = bodyText.trimmingCharacters(in: .whitespacesAndNewlines)
            let shown = text.isEmpty ? "" : ": " + String(text.prefix(300))
            return CLIError(exitCode(code: httpCode), ["error: the server responded with status \(httpCode)\(shown)"])
        }
        let code = Int(status["code"]?.integerValue ?? Int64(httpCode))
        let reason = status["reason"]?.stringValue ?? ""
        var message = status["message"]?.stringValue ?? "the server responded with status \(code)"
        let causes = status["details"]?["causes"]?.arrayValue ?? []
        // An Invalid message repeats every cause inline; they are printed one per line below instead.
        if reason == "Invalid", !causes.isEmpty, let range = message.range(of: " is invalid: ") {
            message = String(message[..<range.lowerBound]) + " is invalid:"
        }
        var lines = ["Error from server" + (reason.isEmpty ? "" : " (\(reason))") + ": " + message]
        for cause in causes {
            let field = cause["field"]?.stringValue ?? ""
            let text = cause["message"]?.stringValue ?? cause["reason"]?.stringValue ?? ""
            lines.append("* " + (field.isEmpty ? text : "\(field): \(text)"))
        }
        return CLIError(exitCode(code: code), lines)
    }

    /// The exit code for an HTTP error status.
    static func exitCode(code: Int) -> CLIExitCode {
        switch code {
        case 404: return .notFound
        case 409: return .conflict
        case 400, 413, 415, 422: return .invalid
        default: return .failure
        }
    }

    /// `name` percent-encoded for a path segment.
    static func pathSegment(_ name: String) -> String {
        name.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed.subtracting(CharacterSet(charactersIn: "/?#"))) ?? name
    }

    /// One open connection of a client.
    /// The JSON body of a 2xx response; anything else throws its `Status` error.
    static func decode(_ response: HTTPClientResponse) throws(CLIError) -> (status: Int, body: JSONValue) {
        guard (200..<300).contains(response.status) else { throw statusError(response) }
        do {
            return (response.status, try JSONValue.parse(response.body).value)
        } catch {
            throw .client(.failure, "the server sent a response that is not JSON: \(error)")
        }
    }

    struct Session: Sendable {
        let client: APIClient
        let http: PooledHTTPClient

        /// The request target for `path` with `query` (values percent-encoded), under the server's prefix.
        func requestTarget(_ path: String, _ query: [(String, String)]) -> String {
            client.target.url.pathPrefix + path + RequestTarget.query(query)
        }

        /// The headers every request carries.
        func headers(accept: String, contentType: String?) -> [(String, String)] {
            var headers = [("Accept", accept), ("User-Agent", "apoxy-cli/\(CLIVersion.current)")]
            if let contentType { headers.append(("Content-Type", contentType)) }
            if let token = client.target.token { headers.append(("Authorization", "Bearer \(token)")) }
            return headers
        }

        /// Sends a request and returns the response, whatever its status.
        func send(
            _ method: String, _ path: String, query: [(String, String)] = [], accept: String = "application/json",
            contentType: String? = nil, body: JSONValue? = nil
        ) async throws(CLIError) -> HTTPClientResponse {
            do {
                return try await http.request(
                    method, requestTarget(path, query),
                    headers: headers(accept: accept, contentType: contentType ?? (body == nil ? nil : "application/json")),
                    body: body?.serialized(), timeout: client.target.requestTimeout)
            } catch {
                throw APIClient.connectionError(error, server: client.target.url)
            }
        }

        /// Sends a request and returns the JSON body of a 2xx response; anything else throws its `Status` error.
        func call(
            _ method: String, _ path: String, query: [(String, String)] = [], accept: String = "application/json",
            contentType: String? = nil, body: JSONValue? = nil
        ) async throws(CLIError) -> (status: Int, body: JSONValue) {
            try APIClient.decode(try await send(method, path, query: query, accept: accept, contentType: contentType, body: body))
        }

        /// A whole list (or server-side Table) read in pages of `chunkSize` (0: one request), as kubectl reads one: every
        /// page is at the first page's revision, and the pages are joined into one list (`items`, or a Table's
        /// `rows`) without a continue token.
        func list(
            _ path: String, query: [(String, String)], chunkSize: Int, accept: String = "application/json"
        ) async throws(CLIError) -> JSONValue {
            guard chunkSize > 0 else { return try await call("GET", path, query: query, accept: accept).body }
            var first: JSONValue?
            var member = "items"
            var entries: [JSONValue] = []
            var continueToken: String?
            repeat {
                var pageQuery = query + [("limit", String(chunkSize))]
                if let continueToken { pageQuery.append(("continue", continueToken)) }
                let page = try await call("GET", path, query: pageQuery, accept: accept).body
                if first == nil {
                    first = page
                    member = page["rows"] != nil ? "rows" : "items"
                }
                entries += page[member]?.arrayValue ?? []
                let next = page["metadata"]?["continue"]?.stringValue ?? ""
                continueToken = next.isEmpty ? nil : next
            } while continueToken != nil
            var whole = first ?? .object([:])
            whole[member] = .array(entries)
            if case .object(var metadata)? = whole["metadata"] {
                metadata["continue"] = nil
                metadata["remainingItemCount"] = nil
                whole["metadata"] = .object(metadata)
            }
            return whole
        }

        /// Opens a watch: the response head, then the events line by line.
        func watch(
            _ path: String, query: [(String, String)], accept: String
        ) async throws(CLIError) -> LineSequence<ResponseBodyChunks> {
            let result: (response: HTTPClientResponse, lines: LineSequence<ResponseBodyChunks>)
            do {
                result = try await http.streamLines(
                    "GET", requestTarget(path, query), headers: headers(accept: accept, contentType: nil))
            } catch {
                throw APIClient.connectionError(error, server: client.target.url)
            }
            guard result.response.status == 200 else {
                // The error body follows the head; collect it for the Status message.
                var text: [String] = []
                do {
                    for try await line in result.lines { text.append(line) }
                } catch {}
                var response = result.response
                response.body = Array(text.joined(separator: "\n").utf8)
                throw APIClient.statusError(response)
            }
            return result.lines
        }
    }
}
