import ApoxyAPI
import ApoxyYAML
import Foundation

/// One object read from a manifest, with where it came from for error messages.
struct Manifest: Sendable {
    var object: JSONValue
    /// `web.yaml`, `web.yaml (document 2)`, `stdin`.
    var source: String

    var name: String? { object["metadata"]?["name"]?.stringValue }
}

/// Reads `-f` arguments: files, `-` for standard input, or folders (their `.yaml`, `.yml` and `.json` files).
enum ManifestReader {
    /// Every object in `paths`, in order; `List` documents contribute their items.
    static func read(_ paths: [String]) throws(CLIError) -> [Manifest] {
        var manifests: [Manifest] = []
        var stdinRead = false
        for path in paths {
            if path == "-" {
                guard !stdinRead else { throw .client(.usage, "-f - may be given only once") }
                stdinRead = true
                let data = FileHandle.standardInput.readDataToEndOfFile()
                manifests += try parse(String(decoding: data, as: UTF8.self), source: "stdin")
                continue
            }
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
                throw .client(.badInput, "\(path): no such file or directory")
            }
            let files: [String]
            if isDirectory.boolValue {
                let entries = (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
                files = entries.filter { $0.hasSuffix(".yaml") || $0.hasSuffix(".yml") || $0.hasSuffix(".json") }.sorted()
                    .map { URL(fileURLWithPath: path).appendingPathComponent($0).path }
            } else {
                files = [path]
            }
            for file in files {
                guard let data = FileManager.default.contents(atPath: file) else {
                    throw .client(.badInput, "\(file): cannot read")
                }
                guard let text = String(data: data, encoding: .utf8) else {
                    throw .client(.badInput, "\(file): not UTF-8 text")
                }
                manifests += try parse(text, source: file)
            }
        }
        guard !manifests.isEmpty else { throw .client(.badInput, "no objects found in \(paths.joined(separator: ", "))") }
        return manifests
    }

    /// The objects of one file's text.
    static func parse(_ text: String, source: String) throws(CLIError) -> [Manifest] {
        let documents: [JSONValue]
        do {
            documents = try YAMLCoding.parseDocuments(text)
        } catch {
            throw .client(.badInput, "\(source): \(error.message)")
        }
        var manifests: [Manifest] = []
        for (index, document) in documents.enumerated() {
            let origin = documents.count == 1 ? source : "\(source) (document \(index + 1))"
            guard document.objectValue != nil else {
                throw .client(
                    .badInput, "\(origin): expected an object, found \(document.typeName == "array" ? "a list" : "a \(document.typeName)")")
            }
            // `kind: List` (or `BackendList`, as `apoxy backend list -o yaml` prints it) carries its objects as items.
            if let kind = document["kind"]?.stringValue, kind.hasSuffix("List"), let items = document["items"]?.arrayValue {
                for (itemIndex, item) in items.enumerated() {
                    guard item.objectValue != nil else { throw .client(.badInput, "\(origin): items[\(itemIndex)] is not an object") }
                    manifests.append(Manifest(object: item, source: "\(origin) items[\(itemIndex)]"))
                }
                continue
            }
            manifests.append(Manifest(object: document, source: origin))
        }
        return manifests
    }
}
