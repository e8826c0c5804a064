import ArgumentParser

/// `apoxy backend` (aliases `be`, `backends`): read and write Backends on an API server, as kubectl would.
public struct BackendCommand: AsyncParsableCommand {
    /// The group's name, aliases, help and subcommands (`list` is the default).
    public static let configuration = CommandConfiguration(
        commandName: "backend",
        abstract: "Manage Backends (core.apoxy.dev/v1alpha2) on an apoxy API server.",
        discussion: """
            Without a subcommand, lists Backends. The server is --server, else the current context of \
            --kubeconfig or $KUBECONFIG, else http://127.0.0.1:8080. Connection options work before or after \
            the subcommand.

            Examples:
              apoxy backend                       # list, as a table
              apoxy be get web -o yaml
              apoxy be create -f web.yaml
              apoxy be apply -f web.yaml          # server-side apply
              apoxy be edit web                   # in $KUBE_EDITOR or $EDITOR
              apoxy be delete web
              apoxy be watch -l team=edge
              apoxy be list --server https://apoxy.example.com:6443 --token "$TOKEN"

            \(CLIExitCode.helpTable)
            """,
        subcommands: [List.self, Get.self, Create.self, Apply.self, Delete.self, Edit.self, Watch.self],
        defaultSubcommand: List.self,
        aliases: ["be", "backends"]
    )

    @OptionGroup(title: "Connection Options") var connection: ConnectionOptions

    /// Creates the command with default options.
    public init() {}
}

extension BackendCommand {
    /// Options that pick objects by label or field (list, watch, delete).
    struct SelectorOptions: ParsableArguments {
        @Option(
            name: [.customShort("l"), .customLong("selector")],
            help: ArgumentHelp("Label selector, e.g. team=edge,tier!=db or 'env in (a,b)'.", valueName: "selector"))
        var selector: String?

        @Option(help: ArgumentHelp("Field selector on metadata.name or spec.protocol, e.g. spec.protocol=h2.", valueName: "selector"))
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
