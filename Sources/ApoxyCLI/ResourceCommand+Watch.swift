import ApoxyAPI
import ApoxyClient
import ArgumentParser

extension ResourceCommand {
    /// `apoxy RESOURCE watch`: stream changes to objects.
    struct Watch: AsyncParsableCommand {
        static var configuration: CommandConfiguration {
            CommandConfiguration(
                commandName: "watch",
                abstract: "Watch \(R.kind)s change, one line (or document) per event.",
                discussion: """
                    Prints the current \(R.kind)s first (unless --watch-only), then every change as it happens, until \
                    interrupted or --timeout seconds pass. The default output is table rows (the header once); \
                    --output-watch-events adds the event type (ADDED, MODIFIED, DELETED). With -o json or yaml each \
                    event prints the object (or, with --output-watch-events, the whole WatchEvent); yaml documents \
                    are separated by ---.

                    Examples:
                      apoxy \(R.commandName) watch
                      apoxy \(R.shortName) watch --output-watch-events -l team=edge
                      apoxy \(R.shortName) watch --watch-only -o name
                      apoxy \(R.shortName) watch -o json --timeout 60

                    \(CLIExitCode.helpTable)
                    """
            )
        }

        @OptionGroup(title: "Connection Options") var connection: ConnectionOptions
        @OptionGroup var selectors: SelectorOptions

        @Option(
            name: .shortAndLong, help: ArgumentHelp("Output format: json, yaml, name or wide (default: table rows).", valueName: "format"))
        var output: OutputFormat?

        @Flag(help: "Add a LABELS column to the table.")
        var showLabels = false

        @Flag(help: "Print the event type (ADDED, MODIFIED, DELETED) with each event.")
        var outputWatchEvents = false

        @Flag(help: "Skip the current state: print only changes from now on.")
        var watchOnly = false

        @Option(help: ArgumentHelp("Stop after this many seconds (the server ends the watch).", valueName: "seconds"))
        var timeout: Int?

        func validate() throws {
            if let timeout, timeout <= 0 { throw ValidationError("--timeout must be a positive number of seconds") }
        }

        func run() async throws {
            try await reportingErrors {
                let client = APIClient(target: try connection.resolve())
                var query = [("watch", "true")] + selectors.query
                if let timeout { query.append(("timeoutSeconds", String(timeout))) }
                if watchOnly {
                    // Start after the revision of a list taken now, so the current objects are not replayed.
                    let list = try await client.withSession { session throws(CLIError) in
                        try await session.call("GET", R.collectionPath, query: selectors.query + [("limit", "1")]).body
                    }
                    query.append(("resourceVersion", list["metadata"]?["resourceVersion"]?.stringValue ?? "0"))
                }
                let table = output == nil || output == .wide
                try await client.withSession { session throws(CLIError) in
                    try await stream(session, query: query, table: table)
                }
            }
        }

        func stream(_ session: APIClient.Session, query: [(String, String)], table: Bool) async throws(CLIError) {
            let lines = try await session.watch(
                R.collectionPath, query: query, accept: table ? APIClient.tableMediaType : "application/json")
            var widths: [Int]?
            var columns: JSONValue?
            var first = true
            do {
                for try await line in lines where !line.isEmpty {
                    guard let event = try? JSONValue.parse(line), let type = event["type"]?.stringValue else {
                        throw CLIError.client(.failure, "the server sent a watch event that is not JSON: \(line.prefix(200))")
                    }
                    let object = event["object"] ?? .null
                    switch type {
                    case "ERROR":
                        throw APIClient.statusError(code: Int(object["code"]?.integerValue ?? 500), body: object.serialized())
                    case "BOOKMARK":
                        continue
                    default:
                        break
                    }
                    if table {
                        // Later Table events may leave the column definitions out (kube-apiserver does).
                        var serverTable = object
                        if serverTable["columnDefinitions"] == nil { serverTable["columnDefinitions"] = columns }
                        columns = serverTable["columnDefinitions"]
                        let rows = TextTable(
                            serverTable: serverTable, wide: output == .wide, showLabels: showLabels,
                            event: outputWatchEvents ? type : nil)
                        // A stream cannot know later rows' widths; the EVENT column starts wide enough for MODIFIED.
                        let current = rows.widths(startingFrom: widths ?? (outputWatchEvents ? ["MODIFIED".count + 3] : []))
                        widths = current
                        Console.print(rows.lines(widths: current, includeHeader: first))
                    } else {
                        let shown = ObjectPrinter.withoutManagedFields(object)
                        switch output {
                        case .name:
                            Console.print([(outputWatchEvents ? type + " " : "") + ObjectPrinter.qualifiedName(shown)])
                        default:
                            let value: JSONValue = outputWatchEvents ? ["type": .string(type), "object": shown] : shown
                            let format = output ?? .json
                            Console.write((format == .yaml && !first ? "---\n" : "") + ObjectPrinter.document(value, format))
                        }
                    }
                    first = false
                }
            } catch let error as CLIError {
                throw error
            } catch {
                throw APIClient.connectionError(error, server: session.client.target.url)
            }
        }
    }
}
