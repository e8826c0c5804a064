import Foundation

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
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        // The path travels as "$1", so no quoting of it is needed.
        process.arguments = ["-c", "\(editor) \"$1\"", "apoxy-edit", path]
        let status: Int32
        do {
            status = try await withCheckedThrowingContinuation { continuation in
                process.terminationHandler = { continuation.resume(returning: $0.terminationStatus) }
                do {
                    try process.run()
                } catch {
                    process.terminationHandler = nil
                    continuation.resume(throwing: error)
                }
            }
        } catch {
            throw .client(.failure, "cannot start the editor \"\(editor)\": \(error.localizedDescription)")
        }
        guard status == 0 else {
            throw .client(.failure, "the editor \"\(editor)\" exited with status \(status); no changes were saved")
        }
    }
}
