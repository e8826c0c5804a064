import ApoxyAPI
import ApoxyClient
import Foundation
import Testing

/// Hostile and malformed requests against a real server: each gets a precise Status quickly, and the server goes on.
@Suite("Hostile input", .timeLimit(.minutes(2)))
struct HostileInputTests {
    let collection = LiveServer.collection

    @Test func queryParametersThatDoNotParseAre400NamingTheParameter() async throws {
        try await LiveServer.run { server in
            _ = try await server.send("POST", collection, json: backend("q"))
            for (path, parameter) in [
                (collection + "?limit=abc", "limit"),
                (collection + "?timeoutSeconds=abc", "timeoutSeconds"),
                (collection + "?watch=true&timeoutSeconds=1x", "timeoutSeconds"),
                (collection + "?limit=99999999999999999999", "limit"),
            ] {
                let (status, body, _) = try await server.send("GET", path)
                #expect(status == 400, "\(path)")
                #expect(body["reason"] == "BadRequest")
                #expect(body["message"]?.stringValue?.hasPrefix("\(parameter): Invalid value") == true, "\(body)")
            }
            let (deleteStatus, deleteBody, _) = try await server.send("DELETE", collection + "/q?gracePeriodSeconds=soon")
            #expect(deleteStatus == 400)
            #expect(deleteBody["message"]?.stringValue?.contains("gracePeriodSeconds") == true)
            #expect(try await server.send("GET", collection + "/q").status == 200, "nothing was deleted")
        }
    }

    @Test func booleansReadAsKubeReadsThem() async throws {
        try await LiveServer.run { server in
            _ = try await server.send("POST", collection, json: backend("b"))
            // kube: "0" and "false" (any case) are false; anything else is true.
            for value in ["0", "false", "FALSE", "False"] {
                let (status, body, _) = try await server.send("GET", collection + "?watch=\(value)")
                #expect(status == 200)
                #expect(body["kind"] == "BackendList", "watch=\(value) is a list")
            }
            let (status, events) = try await server.watch("resourceVersion=0&allowWatchBookmarks=yes")
            #expect(status == 200)
            #expect(try await events.next()?.type == "ADDED")
            await events.close()
        }
    }

    @Test func anAliasBombThroughServerSideApplyIsRefusedAtOnce() async throws {
        try await LiveServer.run { server in
            var bomb = "apiVersion: core.apoxy.dev/v1alpha2\nkind: Backend\nmetadata: {name: bomb}\n"
            bomb += "x0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n"
            for level in 1..<9 {
                bomb += "x\(level): &a\(level) [" + Array(repeating: "*a\(level - 1)", count: 9).joined(separator: ", ") + "]\n"
            }
            bomb += "spec: {endpoints: *a8}\n"
            let started = ContinuousClock.now
            let (status, body, response) = try await server.send(
                "PATCH", collection + "/bomb?fieldManager=attacker", raw: Array(bomb.utf8), contentType: "application/apply-patch+yaml")
            #expect(ContinuousClock.now - started < .seconds(2))
            #expect(status == 400)
            #expect(body["message"]?.stringValue?.contains("excessive aliasing") == true, "\(body)")
            #expect(response.body.count < 1_000, "the error does not quote the expansion")
            #expect(try await server.send("GET", collection + "/bomb").status == 404)
        }
    }

    @Test func deeplyNestedBodiesAre400() async throws {
        try await LiveServer.run { server in
            let deepJSON =
                #"{"apiVersion":"core.apoxy.dev/v1alpha2","kind":"Backend","metadata":{"name":"deep"},"spec":"#
                + String(repeating: "[", count: 100_000)
            let (status, _, _) = try await server.send("POST", collection, raw: Array(deepJSON.utf8))
            #expect(status == 400)
            let deepYAML =
                "apiVersion: core.apoxy.dev/v1alpha2\nkind: Backend\nmetadata: {name: deep}\nspec: "
                + String(repeating: "- ", count: 100_000) + "x\n"
            let (yamlStatus, _, _) = try await server.send("POST", collection, raw: Array(deepYAML.utf8), contentType: "application/yaml")
            #expect(yamlStatus == 400)
            #expect(try await server.send("GET", "/readyz").status == 200, "the server is still up")
        }
    }
}
