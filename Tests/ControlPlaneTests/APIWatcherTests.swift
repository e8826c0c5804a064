import ApoxyAPI
import ApoxyClient
import Testing

@testable import ApoxyControlPlane

/// The control plane's reflector against an in-process API server (memory storage, an ephemeral loopback port): it
/// lists, then follows the watch, and tells translation input changes apart from status-only ones.
@Suite("API watcher", .timeLimit(.minutes(1)))
struct APIWatcherTests {
    /// Runs `body` with a client of a fresh in-process server and a running watcher of Backends.
    static func withWatcher(
        seeding count: Int = 0, _ body: @Sendable (HTTPConnection, APIWatcher, inout AsyncStream<Void>.Iterator) async throws -> Void
    ) async throws {
        try await InProcessAPI.run { port, client in
            try await InProcessAPI.send(client, "POST", Backend.descriptor.collectionPath, InProcessAPI.backend("before"))
            for index in 0..<count {
                try await InProcessAPI.send(client, "POST", Backend.descriptor.collectionPath, InProcessAPI.backend("seed-\(index)"))
            }
            try await APIEndpoint(host: "127.0.0.1", port: port).withConnection { api in
                let (changes, continuation) = AsyncStream.makeStream(of: Void.self)
                let watcher = APIWatcher(
                    api: api, path: Backend.descriptor.collectionPath, logger: InProcessAPI.logger, changes: continuation)
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask { await watcher.run() }
                    var changed = changes.makeAsyncIterator()
                    defer { group.cancelAll() }
                    try await body(client, watcher, &changed)
                }
            }
        }
    }

    /// Waits for the watcher's next change signal until `condition` holds for what it took.
    static func next(
        _ changed: inout AsyncStream<Void>.Iterator, _ watcher: APIWatcher, until condition: ([String: JSONValue?]) -> Bool
    ) async throws -> [String: JSONValue?] {
        var taken: [String: JSONValue?] = [:]
        for _ in 0..<50 {
            guard await changed.next() != nil else { break }
            taken.merge(watcher.takeChanges() ?? [:]) { _, new in new }
            if condition(taken) { return taken }
        }
        Issue.record("the expected change never came; took \(taken.keys.sorted())")
        return taken
    }

    @Test func listsThenFollowsTheWatchAndTellsStatusOnlyChangesApart() async throws {
        try await Self.withWatcher { client, watcher, changed in
            // The first list: what existed before.
            let listed = try await Self.next(&changed, watcher) { $0["before"] != nil }
            #expect(listed.keys.sorted() == ["before"])
            #expect(watcher.current?.keys.sorted() == ["before"])
            _ = watcher.takeStatusChanges()

            let path = Backend.descriptor.collectionPath
            _ = try await client.request(
                "POST", path, headers: [("Content-Type", "application/json")], body: InProcessAPI.backend("later").serialized())
            let added = try await Self.next(&changed, watcher) { $0["later"] != nil }
            #expect(added["later"]??["spec"]?["protocol"] == "")

            // A status write is no translation input: the object is kept for the status writer only.
            let status: JSONValue = [
                "status": [
                    "conditions": [
                        [
                            "type": "Accepted", "status": "True", "reason": "Accepted", "message": "ok",
                            "lastTransitionTime": "2027-01-15T08:00:00Z",
                        ]
                    ]
                ]
            ]
            let written = try await client.request(
                "PATCH", path + "/before/status", headers: [("Content-Type", "application/merge-patch+json")],
                body: status.serialized())
            #expect(written.status == 200, "\(written.text)")
            // A spec edit afterwards is, and the status one before it was seen (the current object carries it).
            _ = try await client.request(
                "PATCH", path + "/later", headers: [("Content-Type", "application/merge-patch+json")],
                body: Array(#"{"spec":{"protocol":"h2c"}}"#.utf8))
            let edited = try await Self.next(&changed, watcher) { $0["later"]??["spec"]?["protocol"] == "h2c" }
            #expect(edited["before"] == nil, "a status-only change is not handed to the translator")
            #expect(watcher.current?["before"]?["status"]?["conditions"]?[0]?["type"] == "Accepted")
            #expect(watcher.takeStatusChanges().contains("before"))

            _ = try await client.request("DELETE", path + "/later")
            let deleted = try await Self.next(&changed, watcher) { $0.keys.contains("later") && $0["later"]! == nil }
            #expect(deleted["later"]! == nil)
            #expect(watcher.current?.keys.sorted() == ["before"])
        }
    }

    @Test func aLargeCollectionIsListedInPagesAtOneRevision() async throws {
        // More than two pages of 500.
        try await Self.withWatcher(seeding: 1_100) { client, watcher, changed in
            let listed = try await Self.next(&changed, watcher) { $0.count == 1_101 }
            #expect(listed.count == 1_101)
            #expect(watcher.current?.count == 1_101)
            #expect(watcher.current?["seed-1099"]?["metadata"]?["name"] == "seed-1099")
            // In three pages of at most 500, not one response of 1,101 objects.
            let lists = try await InProcessAPI.requests(client, [#"verb="LIST""#, #"resource="backends""#])
            #expect(lists == 3)
            // The watch starts where the pages ended: nothing is missed or replayed.
            try await InProcessAPI.send(client, "POST", Backend.descriptor.collectionPath, InProcessAPI.backend("after"))
            let added = try await Self.next(&changed, watcher) { $0["after"] != nil }
            #expect(added.keys.sorted() == ["after"])
        }
    }
}
