import ApoxyAPI
import ArgumentParser
import Foundation

extension ResourceCommand {
    /// `apoxy RESOURCE describe NAME`: one object for people, as `kubectl describe` prints a custom resource.
    struct Describe: AsyncParsableCommand {
        static var configuration: CommandConfiguration {
            CommandConfiguration(
                commandName: "describe",
                abstract: "Show one \(R.kind) in detail: metadata, spec, status conditions and Events.",
                discussion: """
                    Prints the object as kubectl describe prints a custom resource: name, labels and annotations \
                    first, then every field of metadata (but managedFields), spec and status, with keys in words; \
                    conditions are listed one block each. The Events recorded about it (by the control plane on \
                    every Accepted or Programmed change, or by any other recorder) follow, oldest first.

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
                let (object, events) = try await client.withSession { session throws(CLIError) in
                    let object = try await session.call("GET", path).body
                    // As kubectl: the Events about this object (by kind, name and uid; cluster-scoped, so no
                    // namespace), left out when they cannot be read (a user without the right to list them).
                    let metadata = object["metadata"]
                    let selector = [
                        "involvedObject.name=\(name)", "involvedObject.namespace=", "involvedObject.kind=\(R.kind)",
                        "involvedObject.uid=\(metadata?["uid"]?.stringValue ?? "")",
                    ]
                    let events = try? await session.call(
                        "GET", Event.descriptor.collectionPath, query: [("fieldSelector", selector.joined(separator: ","))]
                    ).body
                    return (object, events)
                }
                Console.print(ObjectDescriber.lines(object))
                if let events {
                    Console.print(ObjectDescriber.events(events["items"]?.arrayValue ?? [], now: Int64(Date().timeIntervalSince1970)))
                }
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

    /// kubectl's Events block: type, reason, age (`3m (x4 over 10m)` for a repeated one), source and message,
    /// oldest last-seen first; `Events:  <none>` without any.
    static func events(_ events: [JSONValue], now: Int64) -> [String] {
        guard !events.isEmpty else { return ["Events:  <none>"] }
        func seconds(_ text: String?) -> Int64? { text.flatMap(RFC3339.parse) }
        func age(_ text: String?) -> String { seconds(text).map { humanDuration(seconds: now - $0) } ?? "<unknown>" }
        let sorted = events.sorted { (seconds($0["lastTimestamp"]?.stringValue) ?? 0) < (seconds($1["lastTimestamp"]?.stringValue) ?? 0) }
        let rows: [[String]] = sorted.map { event in
            let first = event["firstTimestamp"]?.stringValue ?? event["eventTime"]?.stringValue
            var interval = age(first)
            if let series = event["series"], let count = series["count"]?.integerValue {
                interval = "\(age(series["lastObservedTime"]?.stringValue)) (x\(count) over \(age(first)))"
            } else if let count = event["count"]?.integerValue, count > 1 {
                interval = "\(age(event["lastTimestamp"]?.stringValue)) (x\(count) over \(age(first)))"
            }
            let component = event["source"]?["component"]?.stringValue ?? ""
            return [
                event["type"]?.stringValue ?? "", event["reason"]?.stringValue ?? "", interval,
                component.isEmpty ? event["reportingComponent"]?.stringValue ?? "" : component, event["message"]?.stringValue ?? "",
            ]
        }
        let headers = ["Type", "Reason", "Age", "From", "Message"]
        // kubectl's own underline (its Age one is four dashes).
        let underline = ["----", "------", "----", "----", "-------"]
        var widths = underline.map(\.count)
        for row in rows { for (i, cell) in row.enumerated() { widths[i] = max(widths[i], cell.count) } }
        func line(_ cells: [String]) -> String {
            "  "
                + cells.enumerated().map { i, cell in
                    i == cells.count - 1 ? cell : cell + String(repeating: " ", count: widths[i] - cell.count + 2)
                }.joined()
        }
        return ["Events:", line(headers), line(underline)] + rows.map(line)
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
