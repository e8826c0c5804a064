import ApoxyAPI
import ArgumentParser

extension ResourceCommand {
    /// `apoxy RESOURCE describe NAME`: one object for people, as `kubectl describe` prints a custom resource.
    struct Describe: AsyncParsableCommand {
        static var configuration: CommandConfiguration {
            CommandConfiguration(
                commandName: "describe",
                abstract: "Show one \(R.kind) in detail: metadata, spec and status conditions.",
                discussion: """
                    Prints the object as kubectl describe prints a custom resource: name, labels and annotations \
                    first, then every field of metadata (but managedFields), spec and status, with keys in words; \
                    conditions are listed one block each.

                    Examples:
                      apoxy \(R.commandName) describe \(R.exampleName)

                    \(CLIExitCode.helpTable)
                    """)
        }

        @OptionGroup(title: "Connection Options") var connection: ConnectionOptions

        @Argument(help: "The \(R.kind)'s name.")
        var name: String

        func run() async throws {
            try await reportingErrors {
                let client = APIClient(target: try connection.resolve())
                let path = R.collectionPath + "/" + APIClient.pathSegment(name)
                let object = try await client.withSession { session throws(CLIError) in try await session.call("GET", path).body }
                Console.print(ObjectDescriber.lines(object))
            }
        }
    }
}

/// kubectl's describe layout for an object it has no describer for (every custom resource).
enum ObjectDescriber {
    static func lines(_ object: JSONValue) -> [String] {
        let metadata = object["metadata"] ?? .object([:])
        var out = [
            "Name:         \(metadata["name"]?.stringValue ?? "")",
            "Labels:       " + pairs(metadata["labels"], indent: 14),
            "Annotations:  " + pairs(metadata["annotations"], indent: 14),
            "API Version:  \(object["apiVersion"]?.stringValue ?? "")",
            "Kind:         \(object["kind"]?.stringValue ?? "")",
        ]
        var rest = metadata
        for key in ["name", "labels", "annotations", "managedFields"] { rest[key] = nil }
        for (key, value) in [("Metadata", rest), ("Spec", object["spec"]), ("Status", object["status"])] {
            guard let value else { continue }
            out.append("\(key):")
            out += nested(value, indent: 2)
        }
        return out
    }

    /// `key=value` lines aligned under the first, or `<none>`.
    static func pairs(_ value: JSONValue?, indent: Int) -> String {
        guard case .object(let map)? = value, !map.isEmpty else { return "<none>" }
        return map.keys.sorted().map { "\($0)=\(map[$0]?.stringValue ?? "")" }.joined(
            separator: "\n" + String(repeating: " ", count: indent))
    }

    /// kubectl's nested printing: `Key:  value` for scalars, a header and deeper lines for maps, one block per
    /// list item (scalars listed as they are).
    static func nested(_ value: JSONValue, indent: Int) -> [String] {
        let pad = String(repeating: " ", count: indent)
        switch value {
        case .object(let map):
            var out: [String] = []
            // Values of one map line up, as kubectl's tab writer lines them up.
            let width = map.keys.map { words($0).count }.max() ?? 0
            for key in map.keys.sorted() {
                let child = map[key]!
                switch child {
                case .object(let inner) where !inner.isEmpty:
                    out.append("\(pad)\(words(key)):")
                    out += nested(child, indent: indent + 2)
                case .array(let items) where !items.isEmpty:
                    out.append("\(pad)\(words(key)):")
                    out += nested(child, indent: indent + 2)
                default:
                    let label = words(key) + ":"
                    out.append(pad + label + String(repeating: " ", count: width + 3 - label.count) + scalar(child))
                }
            }
            return out
        case .array(let items):
            // One block per item at this indentation, as kubectl prints a list of maps.
            return items.flatMap { item -> [String] in
                guard case .object = item else { return ["\(pad)\(scalar(item))"] }
                return nested(item, indent: indent)
            }
        default:
            return ["\(pad)\(scalar(value))"]
        }
    }

    static func scalar(_ value: JSONValue) -> String {
        switch value {
        case .string(let text): text
        case .null: "<nil>"
        case .object, .array: ""
        default: String(decoding: value.serialized(), as: UTF8.self)
        }
    }

    /// `lastTransitionTime` -> `Last Transition Time`, `uid` -> `UID` (kubectl's camel-case splitting).
    static func words(_ key: String) -> String {
        if ["uid", "ip", "fqdn", "dns", "ttl", "url"].contains(key.lowercased()) { return key.uppercased() }
        var result = ""
        for (index, character) in key.enumerated() {
            if index == 0 {
                result.append(Character(character.uppercased()))
            } else {
                if character.isUppercase { result.append(" ") }
                result.append(character)
            }
        }
        return result
    }
}
