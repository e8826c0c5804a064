public import ArgumentParser

/// The entry point for the `apoxy` root command: ArgumentParser's, except that usage errors exit with 2 (as
/// kubectl and most Unix tools do) instead of 64.
public enum CommandLineEntry {
    /// Parses the command line for `root`, runs the chosen command and exits.
    public static func main<Root: ParsableCommand>(_ root: Root.Type) async -> Never {
        do {
            var command = try Root.parseAsRoot()
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
            Root.exit()
        } catch {
            if Root.exitCode(for: error) == .validationFailure {
                Console.error([Root.fullMessage(for: error)])
                Root.exit(withError: ExitCode(CLIExitCode.usage.rawValue))
            }
            Root.exit(withError: error)
        }
    }
}
