import ApoxyAPI

/// A media type with parameters, as found in Accept and Content-Type headers.
struct MediaType: Sendable, Equatable {
    var type: String
    var parameters: [String: String]

    init(_ text: Substring) {
        let parts = text.split(separator: ";")
        type = (parts.first.map { String($0) } ?? "").trimmed.lowercased()
        var parameters: [String: String] = [:]
        for part in parts.dropFirst() {
            let kv = part.split(separator: "=", maxSplits: 1)
            if kv.count == 2 { parameters[String(kv[0]).trimmed.lowercased()] = String(kv[1]).trimmed }
        }
        self.parameters = parameters
    }

    /// Splits a header value into media types.
    static func list(_ header: String?) -> [MediaType] {
        guard let header, !header.isEmpty else { return [] }
        return header.split(separator: ",").map(MediaType.init)
    }
}

/// How a response body is rendered.
enum ResponseFormat: Sendable, Equatable {
    case json
    case table
}

/// Picks the response format from `Accept`, in the client's order of preference, as kube's negotiation does.
func negotiateFormat(_ accept: String?, allowTable: Bool) throws(ApoxyAPI.StatusError) -> ResponseFormat {
    let types = MediaType.list(accept)
    if types.isEmpty { return .json }
    for mediaType in types {
        switch mediaType.type {
        case "application/json":
            switch mediaType.parameters["as"] {
            case nil:
                return .json
            case "Table"
            where allowTable && mediaType.parameters["g"] == "meta.k8s.io"
                && ["v1", "v1beta1"].contains(mediaType.parameters["v"] ?? ""):
                return .table
            default:
                continue
            }
        case "*/*", "application/*", "application/yaml":
            // YAML is the JSON document converted on the way out (YAMLResponseMiddleware).
            return .json
        default:
            continue
        }
    }
    throw ApoxyAPI.StatusError.notAcceptable(
        "only the following media types are accepted: application/json, application/yaml, application/json;as=Table;v=v1;g=meta.k8s.io")
}

extension String {
    var trimmed: String {
        var s = Substring(self)
        while s.first == " " || s.first == "\t" { s.removeFirst() }
        while s.last == " " || s.last == "\t" { s.removeLast() }
        return String(s)
    }
}
