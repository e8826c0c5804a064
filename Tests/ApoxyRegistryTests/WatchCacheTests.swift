import ApoxyAPI
import ApoxyRegistry
import ApoxyStorage
import Logging
import Testing

/// The watch cache over in-memory storage, without sockets.
@Suite("Watch cache", .timeLimit(.minutes(1)))
struct WatchCacheTests {
    /// Runs `body` with a running cache over a store that already holds `existing` objects named `w0`, `w1`, ...
    static func withCache(existing: Int = 0, _ body: @Sendable (MemoryStorage, WatchCache<Backend>) async throws -> Void) async throws {
        let storage = MemoryStorage()
        for i in 0..<existing { _ = try await storage.create(key: "/core.apoxy.dev/backends/w\(i)", value: Self.object("w\(i)")) }
        let cache = WatchCache<Backend>(storage: storage, keyPrefix: "/core.apoxy.dev/backends/", logger: Logger(label: "cache-test"))
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await cache.run() }
            while !cache.isReady { try await Task.sleep(for: .milliseconds(5)) }
            do {
                try await body(storage, cache)
            } catch {
                group.cancelAll()
                throw error
            }
            group.cancelAll()
        }
    }

    static func object(_ name: String) -> [UInt8] {
        Array(
            #"{"apiVersion":"core.apoxy.dev/v1alpha2","kind":"Backend","metadata":{"name":"\#(name)"},"spec":{"endpoints":[{"ip":"10.0.0.1"}],"protocol":""}}"#
                .utf8)
    }

    /// One caller's timeout used to release every waiter of the same revision, so another caller (with a longer
    /// timeout) answered "not fresh" at once instead of waiting.
    @Test func aTimeoutReleasesOnlyItsOwnWaiter() async throws {
        try await Self.withCache { storage, cache in
            async let short = cache.waitUntilFresh(3, timeout: .milliseconds(50))
            async let long = cache.waitUntilFresh(3, timeout: .seconds(20))
            #expect(await short == false)
            try await Task.sleep(for: .milliseconds(100))
            for i in 0..<3 { _ = try await storage.create(key: "/core.apoxy.dev/backends/b\(i)", value: Self.object("b\(i)")) }
            #expect(await long == true, "the long wait lasted until the cache reached the revision")
        }
    }

    @Test func aCancelledWaitEndsAtOnce() async throws {
        try await Self.withCache { _, cache in
            let started = ContinuousClock.now
            let waiter = Task { await cache.waitUntilFresh(100, timeout: .seconds(30)) }
            try await Task.sleep(for: .milliseconds(50))
            waiter.cancel()
            #expect(await waiter.value == false)
            #expect(ContinuousClock.now - started < .seconds(5))
        }
    }

    @Test func aWatchFromBeforeTheCachesHistoryReadsStoragesLog() async throws {
        // The cache starts at revision 5, so its own history begins there.
        try await Self.withCache(existing: 5) { _, cache in
            #expect(await cache.waitUntilFresh(5))
            let subscription = try #require(try await cache.watch(after: 2))
            var names: [String] = []
            for try await item in subscription.stream {
                guard case .event(let event) = item else { continue }
                names.append(event.object.name)
                if names.count == 3 { break }
            }
            #expect(names == ["w2", "w3", "w4"])
        }
    }
}
