import ApoxyAPI
import ApoxyClient
import ApoxyStorage
import ApoxyTestSupport
import Foundation
import Testing

private let collection = LiveServer.collection
private let merge = "application/merge-patch+json"

private func name(_ object: JSONValue) -> String? { object["metadata"]?["name"]?.stringValue }
private func revision(_ object: JSONValue) -> Int64? { object["metadata"]?["resourceVersion"]?.stringValue.flatMap { Int64($0) } }

@Suite("Watch")
struct WatchTests {
    @Test func resourceVersionZeroSendsStateThenChangesInOrder() async throws {
        try await LiveServer.run { server in
            _ = try await server.send("POST", collection, json: backend("a"))
            _ = try await server.send("POST", collection, json: backend("b"))
            let (status, events) = try await server.watch("resourceVersion=0")
            #expect(status == 200)
            let first = try #require(try await events.nextChange())
            let second = try #require(try await events.nextChange())
            #expect([first.type, second.type] == ["ADDED", "ADDED"])
            #expect([name(first.object), name(second.object)] == ["a", "b"])
            _ = try await server.send("PATCH", collection + "/a", json: ["spec": ["protocol": "h2"]], contentType: merge)
            _ = try await server.send("DELETE", collection + "/b")
            _ = try await server.send("POST", collection, json: backend("c"))
            let changes = [try await events.nextChange(), try await events.nextChange(), try await events.nextChange()].compactMap { $0 }
            #expect(changes.map(\.type) == ["MODIFIED", "DELETED", "ADDED"])
            #expect(changes.map { name($0.object) } == ["a", "b", "c"])
            #expect(changes[0].object["spec"]?["protocol"] == "h2")
            let revisions = changes.compactMap { revision($0.object) }
            #expect(revisions == revisions.sorted() && Set(revisions).count == 3)
            await events.close()
        }
    }

    @Test func resumingFromAResourceVersionDeliversEveryChangeExactlyOnce() async throws {
        try await LiveServer.run { server in
            let (_, created, _) = try await server.send("POST", collection, json: backend("counter"))
            let start = try #require(revision(created))
            let port = server.port
            let writes = 120
            // A writer keeps changing the object while the watcher disconnects and resumes.
            async let writer: Void = {
                let client = try await HTTPConnection.connect(host: "127.0.0.1", port: port)
                for i in 0..<writes {
                    let body = JSONValue.object(["metadata": ["labels": ["step": .string("\(i)")]]]).serialized()
                    _ = try await client.request(
                        "PATCH", collection + "/counter", headers: [("Content-Type", merge)], body: body)
                }
                await client.close()
            }()
            var seen: [Int64] = []
            var resumeFrom = start
            var reconnects = 0
            while seen.count < writes {
                let (status, events) = try await server.watch("resourceVersion=\(resumeFrom)")
                #expect(status == 200)
                var taken = 0
                while taken < 25, let event = try await events.nextChange() {
                    #expect(event.type == "MODIFIED")
                    let rv = try #require(revision(event.object))
                    seen.append(rv)
                    resumeFrom = rv
                    taken += 1
                    if seen.count == writes { break }
                }
                await events.close()
                reconnects += 1
            }
            try await writer
            #expect(reconnects >= 4)
            #expect(seen == Array(start + 1...start + Int64(writes)), "every change once, in order, across reconnects")
        }
    }

    @Test func bookmarksTimeoutsAndWatchList() async throws {
        try await LiveServer.run { server in
            _ = try await server.send("POST", collection, json: backend("x"))
            // Bookmarks when asked for.
            let (_, quiet) = try await server.watch("resourceVersion=0&allowWatchBookmarks=true")
            #expect(try await quiet.next()?.type == "ADDED")
            let bookmark = try #require(try await quiet.next())
            #expect(bookmark.type == "BOOKMARK")
            #expect(bookmark.object["kind"] == "Backend")
            #expect(revision(bookmark.object) != nil)
            await quiet.close()
            // timeoutSeconds ends the stream.
            let started = ContinuousClock.now
            let (_, timed) = try await server.watch("resourceVersion=0&timeoutSeconds=1")
            _ = try await timed.next()
            #expect(try await timed.nextChange() == nil)
            // A guard against a watch that never ends, not a timing assertion (the machine may be loaded).
            #expect(ContinuousClock.now - started < .seconds(60))
            await timed.close()
            // Watch-list: initial state, then the initial-events-end bookmark.
            let (_, list) = try await server.watch("sendInitialEvents=true&resourceVersionMatch=NotOlderThan&allowWatchBookmarks=true")
            #expect(try await list.next()?.type == "ADDED")
            let end = try #require(try await list.next())
            #expect(end.type == "BOOKMARK")
            #expect(end.object["metadata"]?["annotations"]?["k8s.io/initial-events-end"] == "true")
            await list.close()
            // sendInitialEvents needs NotOlderThan.
            let (invalid, _, _) = try await server.send("GET", collection + "?watch=true&sendInitialEvents=true")
            #expect(invalid == 422)
        }
    }

    @Test func aRevisionOlderThanHistoryIsExpired() async throws {
        let path = LiveServer.temporaryDatabasePath()
        try await LiveServer.run(databasePath: path) { server in
            for i in 0..<4 { _ = try await server.send("POST", collection, json: backend("old-\(i)")) }
        }
        // History retention compacted everything before revision 3 while no server ran.
        let storage = try SQLiteStorage(path: path)
        try await storage.compact(before: 3)
        await storage.close()
        // A new process resumes any retained revision from the persisted change log, and answers 410 before it.
        try await LiveServer.run(databasePath: path) { server in
            let (resumedStatus, resumed) = try await server.watch("resourceVersion=2")
            #expect(resumedStatus == 200)
            let third = try #require(try await resumed.nextChange())
            #expect(third.type == "ADDED")
            #expect(third.object["metadata"]?["name"] == "old-2")
            #expect(third.object["metadata"]?["resourceVersion"] == "3")
            #expect(try await resumed.nextChange()?.object["metadata"]?["name"] == "old-3")
            await resumed.close()
            let (status, events) = try await server.watch("resourceVersion=1")
            #expect(status == 200)
            let error = try #require(try await events.next())
            #expect(error.type == "ERROR")
            #expect(error.object["code"] == 410)
            #expect(error.object["reason"] == "Expired")
            #expect(try await events.next() == nil)
            await events.close()
        }
    }

    @Test func selectorsTurnTransitionsIntoAddedAndDeleted() async throws {
        try await LiveServer.run { server in
            _ = try await server.send("POST", collection, json: backend("sel", labels: ["tier": "edge"]))
            let (_, events) = try await server.watch("resourceVersion=0&labelSelector=tier%3Dedge")
            #expect(try await events.nextChange()?.type == "ADDED")
            _ = try await server.send("PATCH", collection + "/sel", json: ["metadata": ["labels": ["tier": "core"]]], contentType: merge)
            let left = try #require(try await events.nextChange())
            #expect(left.type == "DELETED")
            #expect(left.object["metadata"]?["labels"]?["tier"] == "edge", "the last state that matched")
            _ = try await server.send("POST", collection, json: backend("other", labels: ["tier": "core"]))
            _ = try await server.send("PATCH", collection + "/sel", json: ["metadata": ["labels": ["tier": "edge"]]], contentType: merge)
            let back = try #require(try await events.nextChange())
            #expect(back.type == "ADDED")
            #expect(name(back.object) == "sel")
            await events.close()
            // One object by name.
            let (_, single) = try await server.watch("fieldSelector=metadata.name%3Dother&resourceVersion=0")
            let only = try #require(try await single.nextChange())
            #expect(name(only.object) == "other")
            _ = try await server.send("DELETE", collection + "/sel")
            _ = try await server.send("DELETE", collection + "/other")
            let gone = try #require(try await single.nextChange())
            #expect(gone.type == "DELETED")
            #expect(name(gone.object) == "other")
            await single.close()
        }
    }

    @Test func fieldSelectorOnProtocolFollowsTransitionsAndLists() async throws {
        try await LiveServer.run { server in
            _ = try await server.send("POST", collection, json: backend("fs", protocol: "h2"))
            _ = try await server.send("POST", collection, json: backend("plain"))
            let (_, events) = try await server.watch("resourceVersion=0&fieldSelector=spec.protocol%3Dh2")
            let initial = try #require(try await events.nextChange())
            #expect(initial.type == "ADDED" && name(initial.object) == "fs")
            let (_, patched, _) = try await server.send(
                "PATCH", collection + "/fs", json: ["spec": ["protocol": "h2c"]], contentType: merge)
            let left = try #require(try await events.nextChange())
            #expect(left.type == "DELETED")
            #expect(left.object["spec"]?["protocol"] == "h2", "the last state that matched")
            #expect(
                left.object["metadata"]?["resourceVersion"] == patched["metadata"]?["resourceVersion"], "stamped with the change's revision"
            )
            _ = try await server.send("PATCH", collection + "/plain", json: ["spec": ["protocol": "h2"]], contentType: merge)
            let joined = try #require(try await events.nextChange())
            #expect(joined.type == "ADDED" && name(joined.object) == "plain")
            await events.close()
            // The cached list agrees; an absent protocol compares as "".
            let (_, h2c, _) = try await server.send("GET", collection + "?fieldSelector=spec.protocol%3Dh2c")
            #expect(h2c["items"]?.arrayValue?.compactMap(name) == ["fs"])
            _ = try await server.send("POST", collection, json: backend("none"))
            let (_, empty, _) = try await server.send("GET", collection + "?fieldSelector=spec.protocol%3D")
            #expect(empty["items"]?.arrayValue?.compactMap(name) == ["none"])
            let (_, notH2, _) = try await server.send("GET", collection + "?fieldSelector=spec.protocol!%3Dh2")
            #expect(notH2["items"]?.arrayValue?.compactMap(name) == ["fs", "none"])
            // Unfiltered lists are served from a cached, sorted copy: every change must replace it.
            func protocols() async throws -> [String] {
                let (_, all, _) = try await server.send("GET", collection)
                return all["items"]?.arrayValue?.map { $0["spec"]?["protocol"]?.stringValue ?? "" } ?? []
            }
            #expect(try await protocols() == ["h2c", "", "h2"])
            _ = try await server.send("PATCH", collection + "/none", json: ["spec": ["protocol": "tls"]], contentType: merge)
            #expect(try await protocols() == ["h2c", "tls", "h2"])
            _ = try await server.send("POST", collection, json: backend("aaa"))
            _ = try await server.send("DELETE", collection + "/plain")
            let (_, all, _) = try await server.send("GET", collection)
            #expect(all["items"]?.arrayValue?.compactMap(name) == ["aaa", "fs", "none"])
            // A paged selection: the first page comes from the cache, the rest from storage; both read the field alike.
            _ = try await server.send("POST", collection, json: backend("t1", protocol: "tls"))
            _ = try await server.send("POST", collection, json: backend("t2", protocol: "tls"))
            var paged: [String] = []
            var token: String?
            repeat {
                let query =
                    "?fieldSelector=spec.protocol%3Dtls&limit=1"
                    + (token.map { "&continue=" + ($0.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "") } ?? "")
                let (status, page, _) = try await server.send("GET", collection + query)
                #expect(status == 200)
                paged += page["items"]?.arrayValue?.compactMap(name) ?? []
                token = page["metadata"]?["continue"]?.stringValue
            } while token != nil && paged.count < 10
            #expect(paged == ["none", "t1", "t2"])
        }
    }

    @Test func tableWatchForKubectlGetW() async throws {
        try await LiveServer.run { server in
            _ = try await server.send("POST", collection, json: backend("tw", protocol: "h2c"))
            let accept = "application/json;as=Table;v=v1;g=meta.k8s.io"
            let (_, events) = try await server.watch("resourceVersion=0", headers: [("Accept", accept)])
            let first = try #require(try await events.nextChange())
            #expect(first.object["kind"] == "Table")
            #expect(first.object["rows"]?[0]?["cells"]?[2] == "h2c")
            await events.close()
        }
    }

    @Test func manyWatchersAllGetEveryChange() async throws {
        try await LiveServer.run { server in
            var readers: [WatchReader] = []
            for _ in 0..<50 {
                let (status, events) = try await server.watch("resourceVersion=0")
                #expect(status == 200)
                readers.append(events)
            }
            for i in 0..<5 { _ = try await server.send("POST", collection, json: backend("fan-\(i)")) }
            for reader in readers {
                var names: [String] = []
                for _ in 0..<5 { names.append(try await reader.nextChange().flatMap { name($0.object) } ?? "") }
                #expect(names == (0..<5).map { "fan-\($0)" })
                await reader.close()
            }
        }
    }

    @Test func shutdownEndsOpenWatches() async throws {
        let started = ContinuousClock.now
        try await LiveServer.run { server in
            let (_, events) = try await server.watch("resourceVersion=0")
            _ = events
            // Returning triggers graceful shutdown with the watch still open.
        }
        // A guard against a shutdown that hangs on an open watch, not a timing assertion.
        #expect(ContinuousClock.now - started < .seconds(60))
    }
}
