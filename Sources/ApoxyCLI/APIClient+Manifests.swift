import ApoxyAPI
import ApoxyClient

extension APIClient {
    /// Runs `write` for every manifest in one session, printing each failure as it happens and going on with
    /// the rest (as kubectl does); returns the objects written and an error carrying the first failure's exit code.
    func forEach(
        _ manifests: [Manifest], _ write: (Session, Manifest) async throws(CLIError) -> JSONValue
    ) async -> (written: [JSONValue], failure: CLIError?) {
        do throws(CLIError) {
            return try await withSession { session throws(CLIError) in
                var written: [JSONValue] = []
                var firstFailure: CLIExitCode?
                for manifest in manifests {
                    do throws(CLIError) {
                        written.append(try await write(session, manifest))
                    } catch {
                        Console.error(error.lines)
                        firstFailure = firstFailure ?? error.exitCode
                        // Without a server there is nothing more to try.
                        if error.exitCode == .cannotConnect { break }
                    }
                }
                return (written, firstFailure.map { CLIError($0, []) })
            }
        } catch {
            // The TLS settings could not be loaded: nothing was sent.
            Console.error(error.lines)
            return ([], CLIError(error.exitCode, []))
        }
    }
}
