import ApoxyAPI
import ApoxyYAML
import Foundation

/// The parts of a kubeconfig the CLI uses: clusters (server, CA, TLS options), users (token, client certificate)
/// and contexts tying them together. Several files merge as kubectl merges `KUBECONFIG`: the first file to define
/// a name (or `current-context`) wins.
struct Kubeconfig: Sendable {
    /// A named entry and the folder of the file it came from (relative paths inside it resolve there).
    struct Entry: Sendable {
        var value: JSONValue
        var directory: String
    }

    var clusters: [String: Entry] = [:]
    var users: [String: Entry] = [:]
    var contexts: [String: Entry] = [:]
    var currentContext: String?

    /// Reads and merges `paths`. Missing files are skipped (as kubectl skips them in `KUBECONFIG`) unless the path
    /// was given explicitly with `--kubeconfig`.
    static func load(paths: [String], explicit: Bool) throws(CLIError) -> Kubeconfig {
        var config = Kubeconfig()
        for path in paths where !path.isEmpty {
            guard FileManager.default.fileExists(atPath: path) else {
                if explicit { throw .client(.badInput, "kubeconfig \(path): no such file") }
                continue
            }
            let text: String
            do {
                text = try String(contentsOfFile: path, encoding: .utf8)
            } catch {
                throw .client(.badInput, "kubeconfig \(path): cannot read: \(error.localizedDescription)")
            }
            let document: JSONValue
            do {
                document = try YAMLCoding.parseDocuments(text).first ?? .object([:])
            } catch {
                throw .client(.badInput, "kubeconfig \(path): \(error)")
            }
            guard document.objectValue != nil else { throw .client(.badInput, "kubeconfig \(path): not a mapping") }
            let directory = URL(fileURLWithPath: path).deletingLastPathComponent().path
            config.merge(document, directory: directory)
        }
        return config
    }

    mutating func merge(_ document: JSONValue, directory: String) {
        func add(_ list: JSONValue?, field: String, into table: inout [String: Entry]) {
            for item in list?.arrayValue ?? [] {
                guard let name = item["name"]?.stringValue, table[name] == nil else { continue }
                table[name] = Entry(value: item[field] ?? .object([:]), directory: directory)
            }
        }
        add(document["clusters"], field: "cluster", into: &clusters)
        add(document["users"], field: "user", into: &users)
        add(document["contexts"], field: "context", into: &contexts)
        if currentContext == nil, let current = document["current-context"]?.stringValue, !current.isEmpty {
            currentContext = current
        }
    }

    /// The server target of `context` (default: `current-context`), or nil when neither names one.
    func target(context requested: String?) throws(CLIError) -> ServerTarget? {
        guard let name = requested ?? currentContext else { return nil }
        guard let context = contexts[name] else { throw .client(.badInput, "context \"\(name)\" not found in kubeconfig") }
        guard let clusterName = context.value["cluster"]?.stringValue, let cluster = clusters[clusterName] else {
            throw .client(
                .badInput, "cluster \"\(context.value["cluster"]?.stringValue ?? "")\" of context \"\(name)\" not found in kubeconfig")
        }
        guard let server = cluster.value["server"]?.stringValue, !server.isEmpty else {
            throw .client(.badInput, "cluster \"\(clusterName)\" in kubeconfig has no server")
        }
        let url: ServerURL
        do {
            url = try ServerURL(parsing: server)
        } catch {
            throw .client(.badInput, "cluster \"\(clusterName)\" in kubeconfig: \(error.message)")
        }
        var target = ServerTarget(url: url)
        target.tls.certificateAuthority = try bytes(cluster, data: "certificate-authority-data", file: "certificate-authority")
        target.tls.insecureSkipVerify = cluster.value["insecure-skip-tls-verify"]?.boolValue ?? false
        target.tls.serverName = cluster.value["tls-server-name"]?.stringValue
        if let userName = context.value["user"]?.stringValue, !userName.isEmpty {
            guard let user = users[userName] else {
                throw .client(.badInput, "user \"\(userName)\" of context \"\(name)\" not found in kubeconfig")
            }
            if let token = user.value["token"]?.stringValue, !token.isEmpty {
                target.token = token
            } else if let tokenBytes = try bytes(user, data: nil, file: "tokenFile") {
                target.token = String(decoding: tokenBytes, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            }
            target.tls.clientCertificate = try bytes(user, data: "client-certificate-data", file: "client-certificate")
            target.tls.clientKey = try bytes(user, data: "client-key-data", file: "client-key")
        }
        return target
    }

    /// The bytes of a `...-data` field (base64) or, failing that, of the file a path field names.
    func bytes(_ entry: Entry, data: String?, file: String) throws(CLIError) -> [UInt8]? {
        if let data, let encoded = entry.value[data]?.stringValue, !encoded.isEmpty {
            guard let decoded = Data(base64Encoded: encoded, options: .ignoreUnknownCharacters) else {
                throw .client(.badInput, "kubeconfig: \(data) is not valid base64")
            }
            return Array(decoded)
        }
        guard let path = entry.value[file]?.stringValue, !path.isEmpty else { return nil }
        let resolved = path.hasPrefix("/") ? path : URL(fileURLWithPath: entry.directory).appendingPathComponent(path).path
        guard let contents = FileManager.default.contents(atPath: resolved) else {
            throw .client(.badInput, "kubeconfig: \(file) \(resolved): cannot read")
        }
        return Array(contents)
    }
}
