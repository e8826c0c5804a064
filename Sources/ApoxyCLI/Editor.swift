import Foundation
import Subprocess
import SystemPackage

/// Runs the user's editor on a file, as kubectl does: `$KUBE_EDITOR`, else `$EDITOR`, else `vi`, through `sh` so
/// an editor given with arguments (`code --wait`) works.
enum Editor {
    /// The editor command line from the environment.
    static func command(environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        for key in ["KUBE_EDITOR", "EDITOR"] {
            if let value = environment[key]?.trimmingCharacters(in: .whitespaces), !value.isEmpty { return value }
        }
        return "vi"
    }

    /// Opens `path` in the editor on this terminal and waits for it to exit.
    static func edit(path: String) async throws(CLIError) {
        let editor = command()
        let status: TerminationStatus
        do {
            // The editor gets this terminal: the CLI's own standard input, output and error, left open afterwards.
            // The path travels as "$1", so no quoting of it is needed.
            status = try await Subprocess.run(
                .path("/bin/sh"), arguments: ["-c", "\(editor) \"$1\"", "apoxy-edit", path],
                input: .fileDescriptor(.standardInput, closeAfterSpawningProcess: false), output: .currentStandardOutput,
                error: .currentStandardError
            ).terminationStatus
        } catch {
            throw .client(.failure, "cannot start the editor \"\(editor)\": \(error)")
        }
        guard case .exited(0) = status else {
            let how: String
            switch status {
            case .exited(let code): how = "exited with status \(code)"
            case .signaled(let signal): how = "was killed by signal \(signal)"
            }
            throw .client(.failure, "the editor \"\(editor)\" \(how); no changes were saved")
        }
    }
}
