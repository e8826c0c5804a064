import ApoxyAPI
import ApoxyYAML
import ArgumentParser

/// `-o`: how objects are printed. Without it, commands print a table (reads) or a one-line summary (writes).
enum OutputFormat: String, ExpressibleByArgument, CaseIterable, Sendable {
    case json, yaml, name, wide
}

/// `-o`, `--show-labels` and `--show-managed-fields`: how `get` and `list` print what they read.
struct ReadOutputOptions: ParsableArguments {
    @Option(name: .shortAndLong, help: ArgumentHelp("Output format: json, yaml, name or wide (default: table).", valueName: "format"))
    var output: OutputFormat?

    @Flag(help: "Add a LABELS column to the table.")
    var showLabels = false

    @Flag(help: "Keep metadata.managedFields in json and yaml output.")
    var showManagedFields = false

    /// An object or list as json and yaml print it: without managedFields unless asked.
    func shown(_ value: JSONValue) -> JSONValue { showManagedFields ? value : ObjectPrinter.withoutManagedFields(value) }
}

/// Printing objects in the chosen format.
enum ObjectPrinter {
    /// `backend.core.apoxy.dev/NAME`, as `kubectl -o name` prints it, from the object's own kind and group.
    static func qualifiedName(_ object: JSONValue) -> String {
        let group = (object["apiVersion"]?.stringValue ?? "").split(separator: "/").dropLast().first.map { "." + $0 } ?? ""
        return "\((object["kind"]?.stringValue ?? "").lowercased())\(group)/\(object["metadata"]?["name"]?.stringValue ?? "")"
    }

    /// `value` without `metadata.managedFields` (on an object, or on every item of a list), which kubectl also hides
    /// unless asked.
    static func withoutManagedFields(_ value: JSONValue) -> JSONValue {
        var value = value
        if let items = value["items"]?.arrayValue {
            value["items"] = .array(items.map(withoutManagedFields))
        } else {
            value["metadata"]?["managedFields"] = nil
        }
        return value
    }

    /// The text for one document (an object or a list) in JSON or YAML.
    static func document(_ value: JSONValue, _ format: OutputFormat) -> String {
        switch format {
        case .yaml: return YAMLCoding.serialize(value)
        default: return String(decoding: value.prettySerialized(), as: UTF8.self)
        }
    }

    /// Prints objects written by create/apply: one object as itself, several as a `List` (as kubectl does).
    static func printObjects(_ objects: [JSONValue], _ format: OutputFormat) {
        switch format {
        case .name, .wide:
            Console.print(objects.map(qualifiedName))
        case .json, .yaml:
            guard !objects.isEmpty else { return }
            let value: JSONValue =
                objects.count == 1
                ? objects[0]
                : ["apiVersion": "v1", "kind": "List", "items": .array(objects), "metadata": ["resourceVersion": ""]]
            Console.write(document(value, format))
        }
    }
}
