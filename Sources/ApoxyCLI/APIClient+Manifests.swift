import ApoxyAPI
import ApoxyClient

extension APIClient {
    /// Runs `write` for every manifest on one connection, printing each failure as it happens and going on with
    /// the rest (as kubectl does); returns the objects written and an error carrying the first failure's exit code.
    func forEach(
        _ manifests: [Manifest], _ write: (Session, Manifest) async throws(CLIError) -> JSONValue
    ) async -> (written: [JSONValue], failure: CLIError?) {
        var written: [JSONValue] = []
        var firstFailure: CLIExitCode?
        let session: Session
        do {
            session = try await connect()
        } catch {
            Console.error(error.lines)
            return ([], CLIError(error.exitCode, []))
        }
        for manifest in manifests {
            do {
                written.append(try await write(session, manifest))
            } catch {
                Console.error(error.lines)
                firstFailure = firstFailure ?? error.exitCode
                // Without a server there is nothing more to try.
                if error.exitCode == .cannotConnect { break }
            }
        }
        await session.connection.close()
        return (written, firstFailure.map { CLIError($0, []) })
    }
}
