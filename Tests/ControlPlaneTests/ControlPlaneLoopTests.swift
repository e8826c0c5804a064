import ApoxyAPI
import ApoxyClient
import ApoxyTranslation
import ApoxyXDS
import HashTreeCollections
import Testing

@testable import ApoxyControlPlane

/// The control plane's whole loop against an in-process API server, without Envoy: objects written to the API are
/// translated and published as a snapshot, their status says what happened, and each transition is an Event.
@Suite("Control plane loop", .timeLimit(.minutes(1)))
struct ControlPlaneLoopTests {
    static func eventually<T>(_ what: String, _ read: () async throws -> T?) async throws -> T {
        for _ in 0..<800 {  // 20 s: a deadline on a loaded machine, not a timing assertion
            if let value = try await read() { return value }
            try await Task.sleep(for: .milliseconds(25))
        }
        throw HTTPClientError(message: "timed out waiting for \(what)")
    }

    @Test func writesReachTheSnapshotStatusAndEvents() async throws {
        try await InProcessAPI.run { port, client in
            let snapshots = SnapshotStore()
            let controlPlane = ControlPlane(
                api: APIEndpoint(host: "127.0.0.1", port: port), options: TranslatorOptions(), snapshots: snapshots,
                tracker: ProxyTracker(), proxyName: "loop", logger: InProcessAPI.logger)
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await controlPlane.run() }
                defer { group.cancelAll() }
                try await InProcessAPI.send(client, "POST", Backend.descriptor.collectionPath, InProcessAPI.backend("web"))
                let route: JSONValue = [
                    "apiVersion": "gateway.apoxy.dev/v1", "kind": "HTTPRoute", "metadata": ["name": "app"],
                    "spec": ["hostnames": ["app.test"], "rules": [["backendRefs": [["name": "web", "port": 8080]]]]],
                ]
                try await InProcessAPI.send(client, "POST", HTTPRoute.descriptor.collectionPath, route)

                // Translated and published: the route's cluster and its load assignment.
                _ = try await Self.eventually("the cluster in the snapshot") {
                    snapshots.current[.cluster]["web:8080"] != nil && snapshots.current[.endpoint]["web:8080"] != nil ? true : nil
                }
                // Status: Accepted from the translation; Programmed cannot be True without a proxy.
                let status = try await Self.eventually("web's status") { () async throws -> JSONValue? in
                    let object = try JSONValue.parse(
                        try await InProcessAPI.send(client, "GET", Backend.descriptor.collectionPath + "/web").text)
                    let conditions = object["status"]?["conditions"]?.arrayValue ?? []
                    return conditions.contains { $0["type"] == "Accepted" && $0["status"] == "True" } ? object["status"] : nil
                }
                #expect(status["conditions"]?.arrayValue?.contains { $0["type"] == "Programmed" && $0["status"] != "True" } == true)
                // The transition is an Event about web, from this backplane.
                let events = try await Self.eventually("an Accepted Event") { () async throws -> [JSONValue]? in
                    let list = try JSONValue.parse(
                        try await InProcessAPI.send(
                            client, "GET", "/api/v1/namespaces/default/events?fieldSelector=involvedObject.name%3Dweb"
                        ).text)
                    let items = list["items"]?.arrayValue ?? []
                    return items.contains { $0["reason"] == "Accepted" } ? items : nil
                }
                let accepted = try #require(events.first { $0["reason"] == "Accepted" })
                #expect(accepted["involvedObject"]?["kind"] == "Backend" && accepted["reportingInstance"] == "loop")

                // Deleting the route removes the cluster from the snapshot.
                try await InProcessAPI.send(client, "DELETE", HTTPRoute.descriptor.collectionPath + "/app")
                _ = try await Self.eventually("the cluster to leave") { snapshots.current[.cluster]["web:8080"] == nil ? true : nil }
            }
        }
    }
}
