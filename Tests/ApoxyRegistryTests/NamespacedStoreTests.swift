import ApoxyAPI
import ApoxyRegistry
import ApoxyStorage
import Logging
import Synchronization
import Testing

/// The generic store serving a namespaced resource (core v1 Events) over in-memory storage, without sockets:
/// keys, scope checks, lists and watches per namespace and across them, and the Event TTL.
@Suite("Namespaced store", .timeLimit(.minutes(1)))
struct NamespacedStoreTests {
    static let namespaces: Set<String> = ["default", "team"]

    /// Runs `body` with an Event store fed by a running watch cache; `now` is the store's and the expiry's clock.
    static func withEvents(
        now: @escaping @Sendable () -> Int64 = { 1_800_000_000 },
        _ body: @Sendable (MemoryStorage, ResourceStore<EventStrategy>) async throws -> Void
    ) async throws {
        let storage = MemoryStorage()
        let cache = WatchCache<Event>(
            storage: storage, keyPrefix: ResourceStore<EventStrategy>.keyPrefix,
            selectableFields: ResourceStore<EventStrategy>.selectableFields(EventStrategy()), logger: Logger(label: "events-test"))
        let store = ResourceStore(
            storage: storage, strategy: EventStrategy(), cache: cache, now: now, namespaceExists: { Self.namespaces.contains($0) })
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await cache.run() }
            while !cache.isReady { try await Task.sleep(for: .milliseconds(5)) }
            do {
                try await body(storage, store)
            } catch {
                group.cancelAll()
                throw error
            }
            group.cancelAll()
        }
    }

    static func event(
        _ name: String, namespace: String? = nil, about object: String = "web", reason: String = "Programmed",
        lastTimestamp: String? = nil, extra: [String: JSONValue] = [:]
    ) -> [UInt8] {
        var metadata: [String: JSONValue] = ["name": .string(name)]
        if let namespace { metadata["namespace"] = .string(namespace) }
        var body: [String: JSONValue] = [
            "apiVersion": "v1", "kind": "Event", "metadata": .object(metadata),
            // An Event outside default is about an object of that namespace (kube's legacy rule).
            "involvedObject": .object(
                ["apiVersion": "core.apoxy.dev/v1alpha2", "kind": "Backend", "name": .string(object)].merging(
                    namespace.map { $0 == "default" ? [:] : ["namespace": .string($0)] } ?? [:]
                ) { _, new in new }),
            "reason": .string(reason), "message": "m", "type": "Normal",
        ]
        if let lastTimestamp { body["lastTimestamp"] = .string(lastTimestamp) }
        body.merge(extra) { _, new in new }
        return JSONValue.object(body).serialized()
    }

    @Test func objectsLiveInTheirNamespaceAndListPerNamespaceOrAcrossThem() async throws {
        try await Self.withEvents { storage, store in
            let created = try await store.create(body: Self.event("a"), namespace: "default", options: WriteOptions())
            #expect(created.object.metadata.namespace == "default", "a body without a namespace takes the request's")
            _ = try await store.create(body: Self.event("a", namespace: "team"), namespace: "team", options: WriteOptions())
            _ = try await store.create(body: Self.event("b", namespace: "team"), namespace: "team", options: WriteOptions())
            // One name in two namespaces: two keys, as kube's.
            #expect(try await storage.get(key: "/events/default/a") != nil)
            #expect(try await storage.get(key: "/events/team/a") != nil)

            var inTeam = ListOptions()
            inTeam.namespace = "team"
            #expect(try await store.list(options: inTeam).items.map(\.metadata.name) == ["a", "b"])
            #expect(try await store.list(options: ListOptions()).items.map(\.metadata.namespace) == ["default", "team", "team"])
            // The same from storage (a limit pages past the cache's first page too).
            inTeam.limit = 1
            let page = try await store.list(options: inTeam)
            #expect(page.items.map(\.metadata.name) == ["a"])
            inTeam.continueToken = page.continueToken
            #expect(try await store.list(options: inTeam).items.map(\.metadata.name) == ["b"])

            var byNamespaceField = ListOptions()
            byNamespaceField.fieldSelector = try FieldSelector(
                parsing: "metadata.namespace=team,metadata.name=a", supportedFields: store.supportedFieldSelectors)
            #expect(try await store.list(options: byNamespaceField).items.map(\.metadata.namespace) == ["team"])

            #expect(try await store.get(name: "b", namespace: "team").metadata.name == "b")
            await #expect(throws: StatusError.self) { try await store.get(name: "b", namespace: "default") }
            _ = try await store.delete(name: "a", namespace: "team", options: DeleteOptions())
            #expect(try await store.get(name: "a", namespace: "default").metadata.namespace == "default", "the other a stays")
        }
    }

    @Test func aBodyNamingAnotherNamespaceIs400AndAMissingNamespace404() async throws {
        try await Self.withEvents { _, store in
            do throws(StatusError) {
                _ = try await store.create(body: Self.event("a", namespace: "team"), namespace: "default", options: WriteOptions())
                Issue.record("a body naming another namespace was accepted")
            } catch {
                #expect(error.code == 400)
                #expect(error.message == "the namespace of the provided object does not match the namespace sent on the request")
            }
            do throws(StatusError) {
                _ = try await store.create(body: Self.event("a"), namespace: "nowhere", options: WriteOptions())
                Issue.record("a create in a missing namespace was accepted")
            } catch {
                #expect(error.code == 404)
                #expect(error.message == #"namespaces "nowhere" not found"#)
            }
            // An update may not move an object either.
            let created = try await store.create(body: Self.event("a"), namespace: "default", options: WriteOptions())
            var moved = created.object
            moved.metadata.namespace = "team"
            do throws(StatusError) {
                _ = try await store.update(
                    name: "a", namespace: "default", body: moved.json.serialized(), subresource: .main, options: WriteOptions())
                Issue.record("an update naming another namespace was accepted")
            } catch {
                #expect(error.code == 400)
            }
        }
    }

    @Test func aWatchInOneNamespaceSeesOnlyIt() async throws {
        try await Self.withEvents { _, store in
            _ = try await store.create(body: Self.event("old", namespace: "team"), namespace: "team", options: WriteOptions())
            _ = try await store.create(body: Self.event("old"), namespace: "default", options: WriteOptions())
            var options = WatchOptions()
            options.list.namespace = "default"
            let subscription = try await store.watch(options: options)
            #expect(subscription.initial.map(\.path) == ["default/old"])
            _ = try await store.create(body: Self.event("new", namespace: "team"), namespace: "team", options: WriteOptions())
            _ = try await store.create(body: Self.event("new"), namespace: "default", options: WriteOptions())
            var seen: [String] = []
            for try await item in subscription.events.stream {
                guard case .event(let event) = item else { continue }
                if let filtered = store.filter(event, options.list) {
                    let object: Event = CachedObject.decode(filtered.json)
                    seen.append("\(object.metadata.namespace)/\(object.metadata.name)")
                }
                if event.object.path == "default/new" { break }
            }
            #expect(seen == ["default/new"])
        }
    }

    @Test func typeMetaIsDefaultedForBuiltInTypesOnly() async throws {
        try await Self.withEvents { _, store in
            // kopf posts Events without apiVersion and kind; kube fills them in for its own types.
            var bare = try JSONValue.parse(Self.event("bare")).value
            bare["apiVersion"] = nil
            bare["kind"] = nil
            let created = try await store.create(body: bare.serialized(), namespace: "default", options: WriteOptions())
            #expect(created.object.json["apiVersion"] == "v1")
            #expect(created.object.json["kind"] == "Event")
        }
        let backends = ResourceStore(storage: MemoryStorage(), strategy: BackendStrategy())
        do throws(StatusError) {
            _ = try await backends.create(
                body: Array(#"{"metadata":{"name":"x"},"spec":{"protocol":"","endpoints":[{"ip":"10.0.0.1"}]}}"#.utf8),
                options: WriteOptions())
            Issue.record("a custom resource without apiVersion was accepted")
        } catch {
            #expect(error.code == 400)
            #expect(error.message.hasPrefix("Object 'apiVersion' is missing"))
        }
    }

    @Test func aClusterScopedObjectDropsANamespace() async throws {
        let backends = ResourceStore(storage: MemoryStorage(), strategy: BackendStrategy())
        let created = try await backends.create(
            body: Array(
                #"{"apiVersion":"core.apoxy.dev/v1alpha2","kind":"Backend","metadata":{"name":"x","namespace":"team"},"spec":{"protocol":"","endpoints":[{"ip":"10.0.0.1"}]}}"#
                    .utf8), options: WriteOptions())
        #expect(created.object.metadata.namespace == "")
        #expect(created.object.json["metadata"]?["namespace"] == nil)
    }

    @Test func newStyleEventsNameTheirReporterActionAndReason() async throws {
        try await Self.withEvents { _, store in
            let body = Self.event("new-style", reason: "", extra: ["eventTime": "2027-01-15T08:00:00.123456Z"])
            do throws(StatusError) {
                _ = try await store.create(body: body, namespace: "default", options: WriteOptions())
                Issue.record("a new-style Event without its reporter was accepted")
            } catch {
                #expect(error.code == 422)
                #expect(error.causes.map(\.field) == ["reportingComponent", "reportingInstance", "action", "reason"])
            }
            // A legacy Event about a cluster-scoped object lives in default only.
            let elsewhere = Self.event(
                "elsewhere", namespace: "team",
                extra: ["involvedObject": ["apiVersion": "core.apoxy.dev/v1alpha2", "kind": "Backend", "name": "web"]])
            do throws(StatusError) {
                _ = try await store.create(body: elsewhere, namespace: "team", options: WriteOptions())
                Issue.record("an Event about a cluster-scoped object outside default was accepted")
            } catch {
                #expect(error.code == 422)
                #expect(error.causes.first?.field == "involvedObject.namespace")
            }
        }
    }

    /// `events.k8s.io/v1` and core `v1` are two views of one storage, as in kube: an Event written through either
    /// reads through both, member names converted, from storage and from each one's watch cache.
    @Test func bothEventVersionsServeOneStorage() async throws {
        try await Self.withEvents { storage, core in
            var convert: (@Sendable (inout JSONValue) -> Void)? = nil
            convert = { json in EventV1Strategy().fromStorage(&json) }
            let cache = WatchCache<EventV1>(
                storage: storage, keyPrefix: ResourceStore<EventV1Strategy>.keyPrefix,
                selectableFields: ResourceStore<EventV1Strategy>.selectableFields(EventV1Strategy()), logger: Logger(label: "v1-test"),
                convert: convert)
            let v1 = ResourceStore(storage: storage, strategy: EventV1Strategy(), cache: cache, namespaceExists: { _ in true })
            #expect(ResourceStore<EventV1Strategy>.keyPrefix == ResourceStore<EventStrategy>.keyPrefix)
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await cache.run() }
                while !cache.isReady { try await Task.sleep(for: .milliseconds(5)) }
                let newStyle: JSONValue = [
                    "apiVersion": "events.k8s.io/v1", "kind": "Event", "metadata": ["name": "probe"],
                    "regarding": ["kind": "Backend", "name": "web"], "note": "reached", "reason": "Probed", "type": "Normal",
                    "action": "Probe", "reportingController": "example.com/prober", "reportingInstance": "p-1",
                    "eventTime": "2027-01-15T08:00:00.123456Z",
                ]
                _ = try await v1.create(body: newStyle.serialized(), namespace: "default", options: WriteOptions())
                let asCore = try await core.get(name: "probe", namespace: "default")
                #expect(asCore.json["apiVersion"] == "v1")
                #expect(asCore.involved("name") == "web" && asCore.string("message") == "reached")
                #expect(asCore.string("reportingComponent") == "example.com/prober" && asCore.body["regarding"] == nil)

                _ = try await core.create(body: Self.event("legacy", reason: "Old"), namespace: "default", options: WriteOptions())
                var byRegarding = ListOptions()
                byRegarding.namespace = "default"
                byRegarding.fieldSelector = try FieldSelector(parsing: "reason=Old", supportedFields: v1.supportedFieldSelectors)
                let listed = try await v1.list(options: byRegarding).items
                #expect(listed.map(\.metadata.name) == ["legacy"])
                #expect(listed.first?.body["regarding"]?["name"] == "web" && listed.first?.string("note") == "m")
                #expect(listed.first?.body["involvedObject"] == nil && listed.first?.json["apiVersion"] == "events.k8s.io/v1")

                // Written through v1, the object must be new-style: the deprecated members are refused.
                var old = newStyle
                old["metadata"] = ["name": "deprecated"]
                old["deprecatedCount"] = 3
                do throws(StatusError) {
                    _ = try await v1.create(body: old.serialized(), namespace: "default", options: WriteOptions())
                    Issue.record("a v1 Event with deprecatedCount was accepted")
                } catch {
                    #expect(error.code == 422 && error.causes.map(\.field) == ["deprecatedCount"])
                }
                group.cancelAll()
            }
        }
    }

    @Test func eventsExpireATTLAfterTheyWereLastSeen() async throws {
        let clock = TestClock(1_799_913_600)
        let now: @Sendable () -> Int64 = { clock.now }
        try await Self.withEvents(now: now) { _, store in
            _ = try await store.create(body: Self.event("stale"), namespace: "default", options: WriteOptions())
            clock.advance(50 * 60)
            _ = try await store.create(body: Self.event("fresh"), namespace: "default", options: WriteOptions())
            // Seen again 55 min after the first write, by its lastTimestamp: kept as long as a fresh one.
            _ = try await store.create(
                body: Self.event("seen-again", lastTimestamp: RFC3339.format(clock.now + 5 * 60)), namespace: "default",
                options: WriteOptions())
            clock.advance(20 * 60)
            let expiry = EventExpiry(store: store, ttl: .seconds(3600), logger: Logger(label: "expiry-test"), now: now)
            #expect(await expiry.sweep() == 1, "only the Event last seen 70 minutes ago is past the 1 h TTL")
            #expect(try await store.list(options: ListOptions()).items.map(\.metadata.name) == ["fresh", "seen-again"])
            #expect(await expiry.sweep() == 0)
        }
    }
}

/// A clock tests move by hand, in seconds since the epoch.
final class TestClock: Sendable {
    private let seconds: Atomic<Int64>

    init(_ start: Int64) { seconds = Atomic(start) }

    var now: Int64 { seconds.load(ordering: .relaxed) }

    func advance(_ by: Int64) { seconds.add(by, ordering: .relaxed) }
}
