public import ArgumentParser

/// `apoxy backend`, `apoxy route`: read and write one resource's objects on an API server, as kubectl would; every
/// verb is one generic implementation, so each resource gets all of them.
public struct ResourceCommand<R: CLIResource>: AsyncParsableCommand {
    /// The group's name, aliases, help and subcommands (`list` is the default).
    public static var configuration: CommandConfiguration {
        CommandConfiguration(
            commandName: R.commandName,
            abstract: "Manage \(R.kind)s (\(R.group)/\(R.version)) on an apoxy API server.",
            discussion: """
                Without a subcommand, lists \(R.kind)s. The server is --server, else the current context of \
                --kubeconfig or $KUBECONFIG, else http://127.0.0.1:8080. Connection options work before or after \
                the subcommand.

                Examples:
                  apoxy \(R.commandName)                       # list, as a table
                  apoxy \(R.shortName) get \(R.exampleName) -o yaml
                  apoxy \(R.shortName) create -f \(R.exampleName).yaml
                  apoxy \(R.shortName) apply -f \(R.exampleName).yaml          # server-side apply
                  apoxy \(R.shortName) edit \(R.exampleName)                   # in $KUBE_EDITOR or $EDITOR
                  apoxy \(R.shortName) delete \(R.exampleName)
                  apoxy \(R.shortName) watch -l team=edge
                  apoxy \(R.shortName) list --server https://apoxy.example.com:6443 --token "$TOKEN"

                \(CLIExitCode.helpTable)
                """,
            subcommands: [List.self, Get.self, Describe.self, Create.self, Apply.self, Delete.self, Edit.self, Watch.self],
            defaultSubcommand: List.self,
            aliases: R.aliases
        )
    }

    @OptionGroup(title: "Connection Options") var connection: ConnectionOptions

    /// Creates the command with default options.
    public init() {}
}

extension ResourceCommand {
    /// Options that pick objects by label or field (list, watch, delete).
    struct SelectorOptions: ParsableArguments {
        @Option(
            name: [.customShort("l"), .customLong("selector")],
            help: ArgumentHelp("Label selector, e.g. team=edge,tier!=db or 'env in (a,b)'.", valueName: "selector"))
        var selector: String?

        @Option(help: ArgumentHelp("Field selector on \(R.selectableFields), e.g. \(R.fieldSelectorExample).", valueName: "selector"))
        var fieldSelector: String?

        /// The selectors as query parameters.
        var query: [(String, String)] {
            var query: [(String, String)] = []
            if let selector { query.append(("labelSelector", selector)) }
            if let fieldSelector { query.append(("fieldSelector", fieldSelector)) }
            return query
        }
    }
}
