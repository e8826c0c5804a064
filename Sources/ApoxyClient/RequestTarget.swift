import Foundation

/// The parts of a request's URL that every client of the API server builds the same way.
public enum RequestTarget {
    /// `host:port`, with brackets around an IPv6 literal: a `Host` header, or a URL's authority.
    public static func authority(host: String, port: Int) -> String {
        host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
    }

    /// `?name=value&...` with the values percent-encoded to RFC 3986's unreserved characters (a continue token is
    /// base64, with `=`, `+` and `/`); "" for no parameters.
    public static func query(_ parameters: [(String, String)]) -> String {
        guard !parameters.isEmpty else { return "" }
        return "?"
            + parameters.map { name, value in "\(name)=\(value.addingPercentEncoding(withAllowedCharacters: unreserved) ?? value)" }
            .joined(separator: "&")
    }

    private static let unreserved: CharacterSet = {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return allowed
    }()
}
