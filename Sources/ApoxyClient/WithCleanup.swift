/// Runs `body`, then `cleanup` whether `body` returned or threw, and waits for the cleanup: `defer` cannot await, and
/// `defer { Task { await close() } }` leaves the cleanup running after the caller has moved on.
public func withCleanup<T>(
    _ body: () async throws -> T, cleanup: () async -> Void
) async rethrows -> T {
    let result: T
    do {
        result = try await body()
    } catch {
        await cleanup()
        throw error
    }
    await cleanup()
    return result
}
