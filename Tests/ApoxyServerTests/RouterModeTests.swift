import ApoxyAPI
import ApoxyServer
import ApoxyStorage
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import Testing

/// The API server's HTTP layer run in process through HummingbirdTesting's router mode (no sockets, no child
/// process): routing, the Status mapping of registry errors, namespaced paths, discovery and tables, each asserted on
/// the exact response a client gets.
@Suite("HTTP layer in router mode", .timeLimit(.minutes(1)))
struct RouterModeTests {
    static func withApp(_ body: @Sendable (any TestClientProtocol) async throws -> Void) async throws {
        var configuration = APIServerConfiguration(port: 0)
        configuration.accessLog = false
        let app = try APIServer.application(
            storage: MemoryStorage(), configuration: configuration, logger: Logger(label: "router-mode"))
        try await app.test(.router) { client in try await body(client) }
    }

    static func json(_ response: TestResponse) throws -> JSONValue {
        try JSONValue.parse(Array(response.body.readableBytesView)).value
    }

    static func send(
        _ client: any TestClientProtocol, _ method: HTTPRequest.Method, _ path: String, _ body: JSONValue? = nil,
        contentType: String = "application/json"
    ) async throws -> (status: Int, json: JSONValue) {
        let response = try await client.execute(
            uri: path, method: method, headers: [.contentType: contentType],
            body: body.map { ByteBuffer(bytes: $0.serialized()) })
        return (Int(response.status.code), try json(response))
    }

    static let backend: JSONValue = [
        "apiVersion": "core.apoxy.dev/v1alpha2", "kind": "Backend", "metadata": ["name": "web"],
        "spec": ["protocol": "", "endpoints": [["ip": "10.0.0.1"]]],
    ]

    @Test func registryErrorsReachTheClientAsKubeStatuses() async throws {
        try await Self.withApp { client in
            let path = Backend.descriptor.collectionPath
            let (created, object) = try await Self.send(client, .post, path, Self.backend)
            #expect(created == 201)
            #expect(object["metadata"]?["generation"] == 1)
            let (duplicate, exists) = try await Self.send(client, .post, path, Self.backend)
            #expect(duplicate == 409)
            #expect(exists["reason"] == "AlreadyExists" && exists["details"]?["name"] == "web")
            var invalid = Self.backend
            invalid["metadata"] = ["name": "bad"]
            invalid["spec"] = ["protocol": "http3", "endpoints": [["ip": "0.0.0.0"]]]
            let (status, problem) = try await Self.send(client, .post, path, invalid)
            #expect(status == 422)
            #expect(problem["reason"] == "Invalid" && problem["details"]?["kind"] == "Backend")
            let fields = (problem["details"]?["causes"]?.arrayValue ?? []).compactMap { $0["field"]?.stringValue }
            #expect(fields.contains("spec.protocol"), "\(problem)")
            let (missing, notFound) = try await Self.send(client, .get, path + "/nope")
            #expect(missing == 404 && notFound["message"] == #"backends.core.apoxy.dev "nope" not found"#)
            let (unsupported, _) = try await Self.send(
                client, .patch, path + "/web", ["spec": [:]], contentType: "application/strategic-merge-patch+json")
            #expect(unsupported == 415)
        }
    }

    @Test func namespacedPathsScopeEventsAndNamespacesAreReadOnly() async throws {
        try await Self.withApp { client in
            let event: JSONValue = [
                "metadata": ["name": "e1", "namespace": "default"], "involvedObject": ["kind": "Backend", "name": "web"],
                "reason": "Test", "type": "Normal",
            ]
            let (created, object) = try await Self.send(client, .post, "/api/v1/namespaces/default/events", event)
            #expect(created == 201)
            #expect(object["apiVersion"] == "v1" && object["kind"] == "Event", "type meta is filled in for a built-in type")
            let (mismatch, problem) = try await Self.send(client, .post, "/api/v1/namespaces/other/events", event)
            #expect(mismatch == 400)
            #expect(problem["message"] == "the namespace of the provided object does not match the namespace sent on the request")
            let (_, across) = try await Self.send(client, .get, "/api/v1/events")
            #expect(across["items"]?.arrayValue?.count == 1)
            let (_, asV1) = try await Self.send(client, .get, "/apis/events.k8s.io/v1/namespaces/default/events/e1")
            #expect(asV1["regarding"]?["name"] == "web" && asV1["involvedObject"] == nil)
            let (namespace, ns) = try await Self.send(client, .get, "/api/v1/namespaces/default")
            #expect(namespace == 200 && ns["status"]?["phase"] == "Active")
            // Only get, list and watch are served for Namespaces: other methods on their paths are 405, as kube
            // answers a method a resource does not serve; a path nothing serves stays 404.
            let (refused, why) = try await Self.send(
                client, .post, "/api/v1/namespaces", ["apiVersion": "v1", "kind": "Namespace", "metadata": ["name": "team"]])
            #expect(refused == 405 && why["reason"] == "MethodNotAllowed")
            #expect(why["message"] == "the server does not allow this method on the requested resource")
            let backends = Backend.descriptor.collectionPath
            let notAllowed: [(HTTPRequest.Method, String)] = [
                (.delete, "/api/v1/namespaces/default"), (.patch, backends), (.put, backends), (.post, "\(backends)/web"),
                (.delete, "\(backends)/web/status"), (.post, "/api/v1/namespaces/default/events/e1"), (.put, "/api/v1/events"),
            ]
            for (method, path) in notAllowed {
                let (code, body) = try await Self.send(client, method, path, [:])
                #expect(code == 405 && body["reason"] == "MethodNotAllowed", "\(method) \(path): \(code)")
            }
            let (unknown, _) = try await Self.send(client, .post, "/apis/core.apoxy.dev/v1alpha2/nothings", [:])
            #expect(unknown == 404)
        }
    }

    @Test func discoveryAndTablesComeFromTheDescriptors() async throws {
        try await Self.withApp { client in
            let (_, core) = try await Self.send(client, .get, "/api/v1")
            let names = (core["resources"]?.arrayValue ?? []).compactMap { $0["name"]?.stringValue }
            #expect(names == ["events", "namespaces"])
            #expect(core["resources"]?[0]?["namespaced"] == true)
            let (_, versions) = try await Self.send(client, .get, "/api")
            #expect(versions["versions"] == ["v1"])
            _ = try await Self.send(client, .post, Backend.descriptor.collectionPath, Self.backend)
            let response = try await client.execute(
                uri: Backend.descriptor.collectionPath, method: .get,
                headers: [.accept: "application/json;as=Table;v=v1;g=meta.k8s.io"])
            let table = try Self.json(response)
            #expect(table["kind"] == "Table")
            let columns = (table["columnDefinitions"]?.arrayValue ?? []).compactMap { $0["name"]?.stringValue }
            #expect(columns.first == "Name" && columns.last == "Age")
            #expect(table["rows"]?[0]?["cells"]?[0] == "web")
        }
    }
}
