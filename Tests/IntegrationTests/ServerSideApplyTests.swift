import ApoxyAPI
import ApoxyTestSupport
import Foundation
import Testing

private let collection = LiveServer.collection
private let applyType = "application/apply-patch+yaml"

private func managers(_ object: JSONValue) -> [String: JSONValue] {
    var result: [String: JSONValue] = [:]
    for entry in object["metadata"]?["managedFields"]?.arrayValue ?? [] {
        let key =
            "\(entry["manager"]?.stringValue ?? "")/\(entry["operation"]?.stringValue ?? "")"
            + (entry["subresource"]?.stringValue.map { "/\($0)" } ?? "")
        result[key] = entry["fieldsV1"]
    }
    return result
}

@Suite("Server-side apply")
struct ServerSideApplyTests {
    @Test func applyCreatesThenConflictsThenForces() async throws {
        try await LiveServer.run { server in
            let config = backend("ssa", endpoints: [["ip": "10.0.0.1"]], protocol: "tls", labels: ["app": "web"])
            let (missingManager, error, _) = try await server.send("PATCH", collection + "/ssa", json: config, contentType: applyType)
            #expect(missingManager == 422)
            #expect(error["details"]?["causes"]?[0]?["field"] == "fieldManager")

            let (created, object, _) = try await server.send(
                "PATCH", collection + "/ssa?fieldManager=alice", json: config, contentType: applyType)
            #expect(created == 201)
            #expect(
                managers(object)["alice/Apply"] == [
                    "f:metadata": ["f:labels": [".": [:], "f:app": [:]]],
                    "f:spec": ["f:endpoints": [:], "f:protocol": [:]],
                ])

            // Bob applies a different protocol: 409 naming the field and its manager.
            let bobConfig = backend("ssa", endpoints: [["ip": "10.0.0.1"]], protocol: "h2")
            let (conflict, conflictError, _) = try await server.send(
                "PATCH", collection + "/ssa?fieldManager=bob", json: bobConfig, contentType: applyType)
            #expect(conflict == 409)
            #expect(conflictError["reason"] == "Conflict")
            #expect(
                conflictError["message"]
                    == "Apply failed with 1 conflict: conflict with \"alice\" using core.apoxy.dev/v1alpha2: .spec.protocol")
            #expect(
                conflictError["details"]?["causes"] == [
                    [
                        "reason": "FieldManagerConflict", "message": "conflict with \"alice\" using core.apoxy.dev/v1alpha2",
                        "field": ".spec.protocol",
                    ]
                ])
            let (_, unchanged, _) = try await server.send("GET", collection + "/ssa")
            #expect(unchanged["spec"]?["protocol"] == "tls")

            // Same value: shared ownership, no conflict.
            let (shared, _, _) = try await server.send(
                "PATCH", collection + "/ssa?fieldManager=carol", json: backend("ssa", endpoints: [["ip": "10.0.0.1"]], protocol: "tls"),
                contentType: applyType)
            #expect(shared == 200)

            // force=true takes the field over.
            let (forced, after, _) = try await server.send(
                "PATCH", collection + "/ssa?fieldManager=bob&force=true", json: bobConfig, contentType: applyType)
            #expect(forced == 200)
            #expect(after["spec"]?["protocol"] == "h2")
            #expect(after["metadata"]?["generation"] == 2)
            let owners = managers(after)
            #expect(owners["alice/Apply"]?["f:spec"]?["f:protocol"] == nil)
            #expect(owners["bob/Apply"]?["f:spec"]?["f:protocol"] == [:])
            #expect(owners["carol/Apply"]?["f:spec"]?["f:protocol"] == nil, "carol lost the field with the value she applied")
        }
    }

    @Test func yamlBodiesForApplyCreateAndReplace() async throws {
        try await LiveServer.run { server in
            let yaml = """
                apiVersion: core.apoxy.dev/v1alpha2
                kind: Backend
                metadata:
                  name: yml
                  labels: {app: web}
                spec:
                  endpoints:
                  - fqdn: api.example.com
                  protocol: h2
                """
            let (applied, object, _) = try await server.send(
                "PATCH", collection + "/yml?fieldManager=yaml-user", raw: Array(yaml.utf8), contentType: applyType)
            #expect(applied == 201)
            #expect(object["spec"]?["protocol"] == "h2")
            #expect(object["metadata"]?["labels"] == ["app": "web"])
            let (created, _, _) = try await server.send(
                "POST", collection, raw: Array(yaml.replacingOccurrences(of: "name: yml", with: "name: yml2").utf8),
                contentType: "application/yaml")
            #expect(created == 201)
            let (bad, error, _) = try await server.send(
                "POST", collection, raw: Array("kind: [Backend".utf8), contentType: "application/yaml")
            #expect(bad == 400)
            #expect(error["message"]?.stringValue?.hasPrefix("error decoding YAML") == true)
            let (two, _, _) = try await server.send(
                "POST", collection, raw: Array((yaml + "\n---\n" + yaml).utf8), contentType: "application/yaml")
            #expect(two == 400)
        }
    }

    @Test func droppingAFieldFromTheConfigurationRemovesIt() async throws {
        try await LiveServer.run { server in
            let first = backend("drop", labels: ["keep": "1", "drop": "2"])
            _ = try await server.send("PATCH", collection + "/drop?fieldManager=alice", json: first, contentType: applyType)
            // Someone else owns another label through an update.
            _ = try await server.send(
                "PATCH", collection + "/drop?fieldManager=ops", json: ["metadata": ["labels": ["ops": "yes"]]],
                contentType: "application/merge-patch+json")
            let (status, after, _) = try await server.send(
                "PATCH", collection + "/drop?fieldManager=alice", json: backend("drop", labels: ["keep": "1"]), contentType: applyType)
            #expect(status == 200)
            #expect(after["metadata"]?["labels"] == ["keep": "1", "ops": "yes"])
            #expect(managers(after)["ops/Update"] == ["f:metadata": ["f:labels": ["f:ops": [:]]]])
        }
    }

    @Test func updatesRecordOwnershipByManagerAndUserAgent() async throws {
        try await LiveServer.run { server in
            let (_, created, _) = try await server.send(
                "POST", collection + "?fieldManager=creator", json: backend("upd", extraSpec: ["dynamicProxy": [:]]))
            let createdFields = try #require(managers(created)["creator/Update"])
            #expect(createdFields["f:spec"]?["f:endpoints"] == [:])
            #expect(createdFields["f:spec"]?["f:dynamicProxy"]?["f:dnsCacheConfig"]?["f:maxHosts"] == [:])
            let (_, patched, _) = try await server.send(
                "PATCH", collection + "/upd", json: ["spec": ["protocol": "h2c"]], contentType: "application/merge-patch+json",
                headers: [("User-Agent", "my-controller/1.2 (linux)")])
            let owners = managers(patched)
            #expect(owners["my-controller/Update"] == ["f:spec": ["f:protocol": [:]]])
            #expect(owners["creator/Update"]?["f:spec"]?["f:protocol"] == nil)
            // Status writes are recorded against the status subresource.
            var statusBody = patched
            statusBody["status"] = [
                "conditions": [
                    ["type": "Accepted", "status": "True", "reason": "Ok", "message": "", "lastTransitionTime": "2026-01-01T00:00:00Z"]
                ]
            ]
            let (_, withStatus, _) = try await server.send("PUT", collection + "/upd/status?fieldManager=controller", json: statusBody)
            let statusOwner = try #require(
                (withStatus["metadata"]?["managedFields"]?.arrayValue ?? []).first { $0["manager"] == "controller" })
            #expect(statusOwner["subresource"] == "status")
            #expect(statusOwner["fieldsV1"]?["f:status"]?["f:conditions"]?["k:{\"type\":\"Accepted\"}"]?["."] == [:])
        }
    }

    @Test func applyingToStatusOwnsConditionsByType() async throws {
        try await LiveServer.run { server in
            _ = try await server.send("POST", collection, json: backend("st"))
            var config = backend("st")
            config["spec"] = nil
            config["status"] = [
                "conditions": [
                    [
                        "type": "Programmed", "status": "False", "reason": "Pending", "message": "waiting",
                        "lastTransitionTime": "2026-01-01T00:00:00Z",
                    ]
                ]
            ]
            let (status, applied, _) = try await server.send(
                "PATCH", collection + "/st/status?fieldManager=controller", json: config, contentType: applyType)
            #expect(status == 200, "\(applied)")
            #expect(applied["status"]?["conditions"]?[0]?["type"] == "Programmed")
            #expect(
                managers(applied)["controller/Apply/status"]?["f:status"]?["f:conditions"]?["k:{\"type\":\"Programmed\"}"]?["f:reason"]
                    == [:])
        }
    }
}
