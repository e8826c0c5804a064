import ArgumentParser

/// A `host:port` flag value (`[::1]:8080` for IPv6; port 0 picks a free one where a command listens), parsed once
/// by ArgumentParser for every command that takes one (`--listen`, `--api-listen`, `--xds-listen`, ...).
struct HostPort: Sendable, Equatable, CustomStringConvertible {
    /// The host or IP literal, without brackets.
    var host: String
    var port: Int

    init(_ host: String, _ port: Int) {
        self.host = host
        self.port = port
    }

    /// `host:port`, with brackets around an IPv6 host.
    var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}

extension HostPort: ExpressibleByArgument {
    /// Parses `host:port` or `[v6]:port`. A bad value is a usage error naming the flag and `<host:port>`.
    init?(argument text: String) {
        guard let colon = text.lastIndex(of: ":") else { return nil }
        var host = String(text[..<colon])
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard let port = Int(text[text.index(after: colon)...]), (0...65535).contains(port), !host.isEmpty else { return nil }
        self.init(host, port)
    }

    var defaultValueDescription: String { description }
}
