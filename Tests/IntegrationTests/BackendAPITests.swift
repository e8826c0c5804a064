import ApoxyAPI
import ApoxyClient
import ApoxyTestSupport
import Foundation
import Testing

private let collection = LiveServer.collection
private func item(_ name: String) -> String { "\(collection)/\(name)" }

@Suite("Backends over HTTP")
struct BackendAPITests {
    @Test func createReturns201WithSystemFieldsAndDefaults() async throws {
        try await LiveServer.run { server in
            let body = backend("dfp", endpoints: [["fqdn": "upstream.example.com"]], protocol: "H2", extraSpec: ["dynamicProxy": [:]])
            let (status, created, _) = try await server.send("POST", collection, json: body)
            #expect(status == 201)
            #expect(created["kind"] == "Backend")
            #expect(created["apiVersion"] == "core.apoxy.dev/v1alpha2")
            let meta = try #require(created["metadata"])
            #expect(meta["name"] == "dfp")
            #expect(meta["generation"] == 1)
            #expect(meta["resourceVersion"]?.stringValue.flatMap { Int64($0) } != nil)
            let uid = try #require(meta["uid"]?.stringValue)
            #expect(UUID(uuidString: uid) != nil)
            let timestamp = try #require(meta["creationTimestamp"]?.stringValue)
            #expect(RFC3339.parse(timestamp) != nil && timestamp.hasSuffix("Z"))
            #expect(created["spec"]?["protocol"] == "h2")
            let cache = try #require(created["spec"]?["dynamicProxy"]?["dnsCacheConfig"])
            #expect(
                cache == [
                    "dnsLookupFamily": "auto", "dnsRefreshRate": "1m0s", "dnsMinRefreshRate": "5s", "hostTTL": "5m0s", "maxHosts": 1024,
                    "dnsQueryTimeout": "5s",
                ])
            let (getStatus, fetched, _) = try await server.send("GET", item("dfp"))
            #expect(getStatus == 200)
            #expect(fetched == created)
        }
    }

    @Test func generateNameCreatesAUniqueName() async throws {
        try await LiveServer.run { server in
            var body = backend("")
            body["metadata"] = ["generateName": "gen-"]
            let (s1, a, _) = try await server.send("POST", collection, json: body)
            let (s2, b, _) = try await server.send("POST", collection, json: body)
            #expect(s1 == 201 && s2 == 201)
            let nameA = try #require(a["metadata"]?["name"]?.stringValue)
            let nameB = try #require(b["metadata"]?["name"]?.stringValue)
            #expect(nameA.hasPrefix("gen-") && nameA.count == 9)
            #expect(nameA != nameB)
            var nameless = backend("")
            nameless["metadata"] = [:]
            let (s3, error, _) = try await server.send("POST", collection, json: nameless)
            #expect(s3 == 422)
            #expect(error["details"]?["causes"]?.arrayValue?.first?["field"] == "metadata.name")
        }
    }

    @Test func duplicateNameIs409AlreadyExists() async throws {
        try await LiveServer.run { server in
            _ = try await server.send("POST", collection, json: backend("dup"))
            let (status, error, _) = try await server.send("POST", collection, json: backend("dup"))
            #expect(status == 409)
            #expect(error["kind"] == "Status")
            #expect(error["reason"] == "AlreadyExists")
            #expect(error["message"] == "backends.core.apoxy.dev \"dup\" already exists")
            #expect(error["details"] == ["name": "dup", "group": "core.apoxy.dev", "kind": "backends"])
        }
    }

    @Test func missingObjectIs404WithDetails() async throws {
        try await LiveServer.run { server in
            for method in ["GET", "DELETE"] {
                let (status, error, _) = try await server.send(method, item("nope"))
                #expect(status == 404)
                #expect(error["reason"] == "NotFound")
                #expect(error["code"] == 404)
                #expect(error["message"] == "backends.core.apoxy.dev \"nope\" not found")
                #expect(error["details"] == ["name": "nope", "group": "core.apoxy.dev", "kind": "backends"])
            }
            let (patchStatus, _, _) = try await server.send(
                "PATCH", item("nope"), json: ["spec": ["protocol": "h2"]], contentType: "application/merge-patch+json")
            #expect(patchStatus == 404)
            var body = backend("nope")
            body["metadata"]?["resourceVersion"] = "5"
            let (putStatus, _, _) = try await server.send("PUT", item("nope"), json: body)
            #expect(putStatus == 404)
        }
    }

    @Test func invalidSpecIs422ListingEveryCause() async throws {
        try await LiveServer.run { server in
            let body = backend(
                "bad", endpoints: [["ip": "0.0.0.0"], ["fqdn": "Upper.Example.com"], ["ip": "10.0.0.1", "fqdn": "a.example.com"], [:]],
                protocol: "HTTP3")
            let (status, error, _) = try await server.send("POST", collection, json: body)
            #expect(status == 422)
            #expect(error["reason"] == "Invalid")
            #expect(error["details"]?["kind"] == "Backend")
            #expect(error["details"]?["group"] == "core.apoxy.dev")
            #expect(error["details"]?["name"] == "bad")
            let causes = try #require(error["details"]?["causes"]?.arrayValue)
            let fields = Set(causes.compactMap { $0["field"]?.stringValue })
            #expect(
                fields == ["spec.protocol", "spec.endpoints[0].ip", "spec.endpoints[1].fqdn", "spec.endpoints[2]", "spec.endpoints[3]"])
            let protocolCause = causes.first { $0["field"] == "spec.protocol" }
            #expect(protocolCause?["reason"] == "FieldValueNotSupported")
            let message = try #require(error["message"]?.stringValue)
            #expect(message.hasPrefix("Backend.core.apoxy.dev \"bad\" is invalid: ["))
            // Nothing was stored.
            let (getStatus, _, _) = try await server.send("GET", item("bad"))
            #expect(getStatus == 404)
        }
    }

    @Test func typeErrorsAre422WithFieldPaths() async throws {
        try await LiveServer.run { server in
            let body = backend(
                "types",
                extraSpec: ["dynamicProxy": ["dnsCacheConfig": ["maxHosts": "many", "dnsRefreshRate": "0.5ms", "dnsLookupFamily": "v5"]]])
            let (status, error, _) = try await server.send("POST", collection, json: body)
            #expect(status == 422)
            let causes = try #require(error["details"]?["causes"]?.arrayValue)
            let byField = Dictionary(causes.map { ($0["field"]?.stringValue ?? "", $0) }, uniquingKeysWith: { a, _ in a })
            #expect(byField["spec.dynamicProxy.dnsCacheConfig.maxHosts"]?["reason"] == "FieldValueTypeInvalid")
            #expect(byField["spec.dynamicProxy.dnsCacheConfig.dnsRefreshRate"]?["reason"] == "FieldValueInvalid")
            #expect(byField["spec.dynamicProxy.dnsCacheConfig.dnsLookupFamily"]?["reason"] == "FieldValueNotSupported")
        }
    }

    @Test func malformedJSONWrongAPIVersionAndKind() async throws {
        try await LiveServer.run { server in
            let (s1, e1, _) = try await server.send("POST", collection, raw: Array("{\"apiVersion\": ".utf8))
            #expect(s1 == 400)
            #expect(e1["reason"] == "BadRequest")
            var wrongVersion = backend("v")
            wrongVersion["apiVersion"] = "core.apoxy.dev/v1"
            let (s2, e2, _) = try await server.send("POST", collection, json: wrongVersion)
            #expect(s2 == 400)
            #expect(e2["message"]?.stringValue?.contains("does not match the expected API version") == true)
            var wrongKind = backend("k")
            wrongKind["kind"] = "Route"
            let (s3, e3, _) = try await server.send("POST", collection, json: wrongKind)
            #expect(s3 == 422)
            #expect(e3["details"]?["causes"]?[0]?["field"] == "kind")
            let (s4, _, _) = try await server.send("POST", collection, json: ["just": "an object"])
            #expect(s4 == 400)
            let (s5, _, _) = try await server.send("POST", collection, json: backend("y"), contentType: "application/x-www-form-urlencoded")
            #expect(s5 == 415)
        }
    }

    @Test func bodiesOver3MiBAre413() async throws {
        try await LiveServer.run { server in
            var big = backend("big")
            big["metadata"]?["annotations"] = ["a.example.com/blob": .string(String(repeating: "x", count: 3 * 1024 * 1024 + 10))]
            let (status, error, _) = try await server.send("POST", collection, json: big)
            #expect(status == 413)
            #expect(error["reason"] == "RequestEntityTooLarge")
        }
    }

    @Test func replaceNeedsACurrentResourceVersion() async throws {
        try await LiveServer.run { server in
            let (_, created, _) = try await server.send("POST", collection, json: backend("rep"))
            let version = try #require(created["metadata"]?["resourceVersion"]?.stringValue)
            // Without resourceVersion: 422 on metadata.resourceVersion.
            let (s1, e1, _) = try await server.send("PUT", item("rep"), json: backend("rep", protocol: "tls"))
            #expect(s1 == 422)
            #expect(e1["details"]?["causes"]?[0]?["field"] == "metadata.resourceVersion")
            // Current: 200, generation bumps.
            var body = backend("rep", protocol: "tls")
            body["metadata"]?["resourceVersion"] = .string(version)
            let (s2, updated, _) = try await server.send("PUT", item("rep"), json: body)
            #expect(s2 == 200)
            #expect(updated["spec"]?["protocol"] == "tls")
            #expect(updated["metadata"]?["generation"] == 2)
            #expect(updated["metadata"]?["uid"] == created["metadata"]?["uid"])
            #expect(updated["metadata"]?["creationTimestamp"] == created["metadata"]?["creationTimestamp"])
            #expect(updated["metadata"]?["resourceVersion"] != .string(version))
            // Stale: 409 Conflict with kube's wording.
            let (s3, e3, _) = try await server.send("PUT", item("rep"), json: body)
            #expect(s3 == 409)
            #expect(e3["reason"] == "Conflict")
            #expect(
                e3["message"]
                    == "Operation cannot be fulfilled on backends.core.apoxy.dev \"rep\": the object has been modified; please apply your changes to the latest version and try again"
            )
            // Name differing from the URL: 400.
            var renamed = body
            renamed["metadata"]?["name"] = "other"
            let (s4, _, _) = try await server.send("PUT", item("rep"), json: renamed)
            #expect(s4 == 400)
        }
    }

    @Test func generationTracksSpecOnly() async throws {
        try await LiveServer.run { server in
            _ = try await server.send("POST", collection, json: backend("gen"))
            let merge = "application/merge-patch+json"
            let (_, labelled, _) = try await server.send(
                "PATCH", item("gen"), json: ["metadata": ["labels": ["a": "b"]]], contentType: merge)
            #expect(labelled["metadata"]?["generation"] == 1)
            let (_, changed, _) = try await server.send("PATCH", item("gen"), json: ["spec": ["protocol": "h2c"]], contentType: merge)
            #expect(changed["metadata"]?["generation"] == 2)
            // A no-op patch writes nothing: same resourceVersion.
            let (_, same, _) = try await server.send("PATCH", item("gen"), json: ["spec": ["protocol": "h2c"]], contentType: merge)
            #expect(same["metadata"]?["resourceVersion"] == changed["metadata"]?["resourceVersion"])
            #expect(same["metadata"]?["generation"] == 2)
        }
    }

    /// PUT starts from the watch cache's copy when it is at the client's resourceVersion: a PUT of the object as read
    /// changes nothing (same resourceVersion, as kube), a real change is written, and a PUT with an older
    /// resourceVersion is still 409.
    @Test func putFromTheCachedCopyKeepsKubeSemantics() async throws {
        try await LiveServer.run { server in
            let (_, created, _) = try await server.send("POST", collection, json: backend("put"))
            let (_, same, _) = try await server.send("PUT", item("put"), json: created)
            #expect(same["metadata"]?["resourceVersion"] == created["metadata"]?["resourceVersion"], "an unchanged PUT writes nothing")
            var changed = created
            changed["spec"]?["protocol"] = "h2c"
            let (status, written, _) = try await server.send("PUT", item("put"), json: changed)
            #expect(status == 200)
            #expect(written["spec"]?["protocol"] == "h2c")
            #expect(written["metadata"]?["resourceVersion"] != created["metadata"]?["resourceVersion"])
            #expect(written["metadata"]?["uid"] == created["metadata"]?["uid"])
            #expect(written["metadata"]?["creationTimestamp"] == created["metadata"]?["creationTimestamp"])
            let (stale, _, _) = try await server.send("PUT", item("put"), json: changed)
            #expect(stale == 409, "the first PUT's resourceVersion is no longer current")
            let (_, read, _) = try await server.send("GET", item("put"))
            #expect(read == written)
        }
    }

    @Test func mergeAndJSONPatch() async throws {
        try await LiveServer.run { server in
            _ = try await server.send("POST", collection, json: backend("p", endpoints: [["ip": "10.0.0.1"]]))
            let (s1, merged, _) = try await server.send(
                "PATCH", item("p"), json: ["spec": ["endpoints": [["ip": "10.0.0.2"], ["fqdn": "b.example.com"]]]],
                contentType: "application/merge-patch+json")
            #expect(s1 == 200)
            #expect(merged["spec"]?["endpoints"] == [["ip": "10.0.0.2"], ["fqdn": "b.example.com"]])
            let jsonPatch: JSONValue = [
                ["op": "test", "path": "/spec/protocol", "value": ""],
                ["op": "replace", "path": "/spec/protocol", "value": "tls"],
                ["op": "remove", "path": "/spec/endpoints/1"],
            ]
            let (s2, patched, _) = try await server.send("PATCH", item("p"), json: jsonPatch, contentType: "application/json-patch+json")
            #expect(s2 == 200)
            #expect(patched["spec"]?["protocol"] == "tls")
            #expect(patched["spec"]?["endpoints"] == [["ip": "10.0.0.2"]])
            let failingTest: JSONValue = [["op": "test", "path": "/spec/protocol", "value": "h2"]]
            let (s3, e3, _) = try await server.send("PATCH", item("p"), json: failingTest, contentType: "application/json-patch+json")
            #expect(s3 == 422)
            #expect(e3["kind"] == "Status")
            let (s4, _, _) = try await server.send(
                "PATCH", item("p"), json: ["not": "an array"], contentType: "application/json-patch+json")
            #expect(s4 == 400)
            let (s5, e5, _) = try await server.send(
                "PATCH", item("p"), json: ["spec": [:]], contentType: "application/strategic-merge-patch+json")
            #expect(s5 == 415)
            #expect(e5["reason"] == "UnsupportedMediaType")
            // A patch that makes the object invalid is 422 and changes nothing.
            let (s6, _, _) = try await server.send(
                "PATCH", item("p"), json: ["spec": ["protocol": "quic"]], contentType: "application/merge-patch+json")
            #expect(s6 == 422)
            let (_, current, _) = try await server.send("GET", item("p"))
            #expect(current["spec"]?["protocol"] == "tls")
            // A stale resourceVersion in a patch is a precondition: 409.
            let (s7, _, _) = try await server.send(
                "PATCH", item("p"), json: ["metadata": ["resourceVersion": "1"], "spec": ["protocol": "h2"]],
                contentType: "application/merge-patch+json")
            #expect(s7 == 409)
        }
    }

    @Test func deleteReturnsSuccessStatusAndCollectionDeleteReturnsTheList() async throws {
        try await LiveServer.run { server in
            let (_, created, _) = try await server.send("POST", collection, json: backend("d1"))
            _ = try await server.send("POST", collection, json: backend("d2", labels: ["tier": "x"]))
            _ = try await server.send("POST", collection, json: backend("d3", labels: ["tier": "x"]))
            let (status, result, _) = try await server.send("DELETE", item("d1"))
            #expect(status == 200)
            #expect(result["kind"] == "Status")
            #expect(result["status"] == "Success")
            #expect(
                result["details"] == [
                    "name": "d1", "group": "core.apoxy.dev", "kind": "backends", "uid": created["metadata"]?["uid"] ?? nil,
                ])
            let (s2, list, _) = try await server.send("DELETE", collection)
            #expect(s2 == 200)
            #expect(list["kind"] == "BackendList")
            #expect(list["items"]?.arrayValue?.compactMap { $0["metadata"]?["name"]?.stringValue } == ["d2", "d3"])
            let (_, after, _) = try await server.send("GET", collection)
            #expect(after["items"] == [])
        }
    }

    @Test func deletePreconditionsAre409() async throws {
        try await LiveServer.run { server in
            _ = try await server.send("POST", collection, json: backend("pre"))
            let (s1, e1, _) = try await server.send("DELETE", item("pre"), json: ["preconditions": ["uid": "not-the-uid"]])
            #expect(s1 == 409)
            #expect(e1["message"]?.stringValue?.contains("Precondition failed: UID in precondition") == true)
            let (s2, _, _) = try await server.send("DELETE", item("pre"), json: ["preconditions": ["resourceVersion": "999"]])
            #expect(s2 == 409)
            let (s3, _, _) = try await server.send("DELETE", item("pre"), json: ["propagationPolicy": "Background"])
            #expect(s3 == 200)
        }
    }

    @Test func finalizersDelayDeletion() async throws {
        try await LiveServer.run { server in
            let (_, created, _) = try await server.send(
                "POST", collection, json: backend("fin", metadata: ["finalizers": ["example.com/hold"]]))
            let (s1, pending, _) = try await server.send("DELETE", item("fin"))
            #expect(s1 == 200)
            #expect(pending["kind"] == "Backend")
            #expect(pending["metadata"]?["deletionTimestamp"]?.stringValue != nil)
            #expect(pending["metadata"]?["generation"] == 2)
            #expect(created["metadata"]?["generation"] == 1)
            // No new finalizers while deleting.
            let (s2, _, _) = try await server.send(
                "PATCH", item("fin"), json: ["metadata": ["finalizers": ["example.com/hold", "example.com/more"]]],
                contentType: "application/merge-patch+json")
            #expect(s2 == 422)
            // Removing the last finalizer deletes it.
            let (s3, _, _) = try await server.send(
                "PATCH", item("fin"), json: ["metadata": ["finalizers": nil]], contentType: "application/merge-patch+json")
            #expect(s3 == 200)
            let (s4, _, _) = try await server.send("GET", item("fin"))
            #expect(s4 == 404)
        }
    }

    @Test func statusSubresourceSemantics() async throws {
        try await LiveServer.run { server in
            let condition: JSONValue = [
                "type": "Accepted", "status": "True", "reason": "Translated", "message": "ok",
                "lastTransitionTime": "2026-01-02T03:04:05Z", "observedGeneration": 1,
            ]
            // Create clears status.
            var withStatus = backend("st")
            withStatus["status"] = ["conditions": [condition]]
            let (_, created, _) = try await server.send("POST", collection, json: withStatus)
            #expect(created["status"] == nil)
            // /status writes change only status.
            var statusBody = created
            statusBody["status"] = ["conditions": [condition]]
            statusBody["spec"]?["protocol"] = "h2"
            statusBody["metadata"]?["labels"] = ["sneaky": "yes"]
            let (s1, afterStatus, _) = try await server.send("PUT", item("st") + "/status", json: statusBody)
            #expect(s1 == 200)
            #expect(afterStatus["status"]?["conditions"]?[0]?["type"] == "Accepted")
            #expect(afterStatus["spec"]?["protocol"] == "")
            #expect(afterStatus["metadata"]?["labels"] == nil)
            #expect(afterStatus["metadata"]?["generation"] == 1)
            // Main-resource writes ignore status.
            let (_, afterMain, _) = try await server.send(
                "PATCH", item("st"), json: ["status": ["conditions": []], "spec": ["protocol": "tls"]],
                contentType: "application/merge-patch+json")
            #expect(afterMain["status"]?["conditions"]?[0]?["type"] == "Accepted")
            #expect(afterMain["spec"]?["protocol"] == "tls")
            // Status validation: a bad condition is 422 on its field.
            let (s2, e2, _) = try await server.send(
                "PATCH", item("st") + "/status",
                json: [
                    "status": [
                        "conditions": [
                            [
                                "type": "Programmed", "status": "Maybe", "reason": "x", "message": "",
                                "lastTransitionTime": "2026-01-02T03:04:05Z",
                            ]
                        ]
                    ]
                ],
                contentType: "application/merge-patch+json")
            #expect(s2 == 422)
            #expect(e2["details"]?["causes"]?[0]?["field"] == "status.conditions[0].status")
            let (s3, fetched, _) = try await server.send("GET", item("st") + "/status")
            #expect(s3 == 200)
            #expect(fetched["kind"] == "Backend")
        }
    }

    @Test func listSelectorsAndPagination() async throws {
        try await LiveServer.run { server in
            for i in 0..<7 {
                _ = try await server.send(
                    "POST", collection,
                    json: backend(
                        "item-\(i)", protocol: i % 2 == 0 ? "h2" : "", labels: ["parity": i % 2 == 0 ? "even" : "odd", "index": "\(i)"]))
            }
            let (_, all, _) = try await server.send("GET", collection)
            #expect(all["kind"] == "BackendList")
            #expect(all["items"]?.arrayValue?.count == 7)
            #expect(all["metadata"]?["resourceVersion"] == "7")
            let (_, even, _) = try await server.send("GET", collection + "?labelSelector=parity%3Deven")
            #expect(even["items"]?.arrayValue?.count == 4)
            let (_, inSet, _) = try await server.send("GET", collection + "?labelSelector=index+in+(1,2,3),parity!=odd")
            #expect(inSet["items"]?.arrayValue?.compactMap { $0["metadata"]?["name"]?.stringValue } == ["item-2"])
            let (_, byField, _) = try await server.send("GET", collection + "?fieldSelector=spec.protocol%3Dh2")
            #expect(byField["items"]?.arrayValue?.count == 4)
            let (_, byName, _) = try await server.send("GET", collection + "?fieldSelector=metadata.name%3Ditem-3")
            #expect(byName["items"]?.arrayValue?.count == 1)
            let (badField, _, _) = try await server.send("GET", collection + "?fieldSelector=spec.endpoints%3Dx")
            #expect(badField == 400)
            let (badLabel, _, _) = try await server.send("GET", collection + "?labelSelector=a+in+b")
            #expect(badLabel == 400)
            // Pages of 3 at one revision, even with writes between pages.
            var names: [String] = []
            var token: String?
            var pages = 0
            repeat {
                var path = collection + "?limit=3"
                if let token { path += "&continue=\(token.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? token)" }
                let (status, page, _) = try await server.send("GET", path)
                #expect(status == 200)
                names += page["items"]?.arrayValue?.compactMap { $0["metadata"]?["name"]?.stringValue } ?? []
                token = page["metadata"]?["continue"]?.stringValue
                if pages == 0 {
                    #expect(page["metadata"]?["remainingItemCount"] == 4)
                    _ = try await server.send("POST", collection, json: backend("item-late"))
                }
                pages += 1
            } while token != nil && pages < 10
            #expect(pages == 3)
            #expect(names == (0..<7).map { "item-\($0)" })
            let (badToken, _, _) = try await server.send("GET", collection + "?limit=2&continue=garbage")
            #expect(badToken == 400)
        }
    }

    @Test func tableHasTheFourColumns() async throws {
        try await LiveServer.run { server in
            _ = try await server.send(
                "POST", collection, json: backend("t1", endpoints: [["ip": "10.0.0.1"], ["fqdn": "a.example.com"]], protocol: "tls"))
            let accept = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json"
            let (status, table, _) = try await server.send("GET", collection, headers: [("Accept", accept)])
            #expect(status == 200)
            #expect(table["kind"] == "Table")
            #expect(table["apiVersion"] == "meta.k8s.io/v1")
            #expect(
                table["columnDefinitions"]?.arrayValue?.compactMap { $0["name"]?.stringValue } == [
                    "Name", "Endpoints", "Protocol", "Propagation", "Healthy", "Age",
                ])
            // Propagation and Healthy are extra (priority 1, shown by -o wide) and empty until a control plane wrote them.
            #expect(table["columnDefinitions"]?[3]?["priority"] == 1)
            #expect(table["columnDefinitions"]?[4]?["priority"] == 1)
            let cells = try #require(table["rows"]?[0]?["cells"]?.arrayValue)
            #expect(cells[0] == "t1")
            #expect(cells[1] == "10.0.0.1,a.example.com")
            #expect(cells[2] == "tls")
            #expect(cells[3] == .null)
            #expect(cells[4] == .null)
            #expect(cells[5].stringValue?.hasSuffix("s") == true)
            #expect(table["rows"]?[0]?["object"]?["kind"] == "PartialObjectMetadata")
            let (_, one, _) = try await server.send("GET", item("t1"), headers: [("Accept", accept)])
            #expect(one["rows"]?.arrayValue?.count == 1)
            let (notAcceptable, _, _) = try await server.send(
                "GET", collection, headers: [("Accept", "application/vnd.kubernetes.protobuf")])
            #expect(notAcceptable == 406)
        }
    }

    @Test func fieldValidationStrictWarnIgnore() async throws {
        try await LiveServer.run { server in
            var body = backend("fv")
            body["spec"]?["port"] = 8080
            let (strict, error, _) = try await server.send("POST", collection + "?fieldValidation=Strict", json: body)
            #expect(strict == 400)
            #expect(error["message"] == "strict decoding error: unknown field \"spec.port\"")
            let duplicate = Array(
                #"{"apiVersion":"core.apoxy.dev/v1alpha2","kind":"Backend","metadata":{"name":"dupf"},"spec":{"endpoints":[{"ip":"10.0.0.1"}],"protocol":"","protocol":"h2"}}"#
                    .utf8)
            let (strictDup, dupError, _) = try await server.send("POST", collection + "?fieldValidation=Strict", raw: duplicate)
            #expect(strictDup == 400)
            #expect(dupError["message"]?.stringValue?.contains("duplicate field \"spec.protocol\"") == true)
            let (warn, created, response) = try await server.send("POST", collection, json: body)
            #expect(warn == 201)
            #expect(response.headerValues("Warning") == ["299 - \"unknown field \\\"spec.port\\\"\""])
            #expect(created["spec"]?["port"] == nil, "unknown fields are pruned")
            body["metadata"]?["name"] = "fv2"
            let (ignore, _, quiet) = try await server.send("POST", collection + "?fieldValidation=Ignore", json: body)
            #expect(ignore == 201)
            #expect(quiet.headerValues("Warning").isEmpty)
            let (bad, _, _) = try await server.send("POST", collection + "?fieldValidation=Loud", json: body)
            #expect(bad == 400)
        }
    }

    @Test func dryRunPersistsNothing() async throws {
        try await LiveServer.run { server in
            let (s1, created, _) = try await server.send("POST", collection + "?dryRun=All", json: backend("dry"))
            #expect(s1 == 201)
            #expect(created["metadata"]?["name"] == "dry")
            let (s2, _, _) = try await server.send("GET", item("dry"))
            #expect(s2 == 404)
            _ = try await server.send("POST", collection, json: backend("dry"))
            let (s3, _, _) = try await server.send("DELETE", item("dry") + "?dryRun=All")
            #expect(s3 == 200)
            let (s4, _, _) = try await server.send("GET", item("dry"))
            #expect(s4 == 200)
        }
    }

    @Test func discoveryAndOpenAPI() async throws {
        try await LiveServer.run { server in
            let (s1, groups, _) = try await server.send("GET", "/apis")
            #expect(s1 == 200)
            #expect(groups["groups"]?[0]?["name"] == "core.apoxy.dev")
            let (_, group, _) = try await server.send("GET", "/apis/core.apoxy.dev")
            #expect(group["kind"] == "APIGroup")
            let (_, resources, _) = try await server.send("GET", "/apis/core.apoxy.dev/v1alpha2")
            let backends = try #require(resources["resources"]?[0])
            #expect(backends["name"] == "backends")
            #expect(backends["singularName"] == "backend")
            #expect(backends["shortNames"] == ["be"])
            #expect(backends["namespaced"] == false)
            #expect(resources["resources"]?[1]?["name"] == "backends/status")
            let aggregatedAccept = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json"
            let (_, aggregated, aggregatedResponse) = try await server.send("GET", "/apis", headers: [("Accept", aggregatedAccept)])
            #expect(aggregatedResponse.header("Content-Type") == "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList")
            #expect(aggregated["kind"] == "APIGroupDiscoveryList")
            let discovered = try #require(aggregated["items"]?[0]?["versions"]?[0]?["resources"]?[0])
            #expect(discovered["resource"] == "backends")
            #expect(discovered["scope"] == "Cluster")
            #expect(discovered["subresources"]?[0]?["subresource"] == "status")
            let (_, legacy, _) = try await server.send("GET", "/api", headers: [("Accept", aggregatedAccept)])
            // The core group (named "") holds Events, namespaced, and the read-only Namespaces.
            let core = try #require(legacy["items"]?[0]?["versions"]?[0])
            #expect(core["version"] == "v1")
            let coreResources = core["resources"]?.arrayValue ?? []
            #expect(coreResources.map { $0["resource"] } == ["events", "namespaces"])
            #expect(coreResources.map { $0["scope"] } == ["Namespaced", "Cluster"])
            #expect(coreResources[1]["verbs"] == ["get", "list", "watch"])
            let (_, version, _) = try await server.send("GET", "/version")
            #expect(version["major"] == "1")
            let (_, index, _) = try await server.send("GET", "/openapi/v3")
            let url = try #require(index["paths"]?["apis/core.apoxy.dev/v1alpha2"]?["serverRelativeURL"]?.stringValue)
            let (s2, doc, _) = try await server.send("GET", url)
            #expect(s2 == 200)
            let patch = try #require(doc["paths"]?["/apis/core.apoxy.dev/v1alpha2/backends/{name}"]?["patch"])
            let contentTypes = Set(patch["requestBody"]?["content"]?.objectValue?.keys.map { $0 } ?? [])
            #expect(contentTypes == ["application/json-patch+json", "application/merge-patch+json", "application/apply-patch+yaml"])
            #expect(patch["parameters"]?.arrayValue?.contains { $0["name"] == "fieldValidation" } == true)
            #expect(patch["x-kubernetes-group-version-kind"] == ["group": "core.apoxy.dev", "version": "v1alpha2", "kind": "Backend"])
            let schema = try #require(doc["components"]?["schemas"]?["dev.apoxy.core.v1alpha2.Backend"])
            let spec = try #require(schema["properties"]?["spec"])
            #expect(spec["required"] == ["endpoints", "protocol"])
            #expect(spec["properties"]?["protocol"]?["enum"] == ["", "tls", "h2", "h2c"])
            let cache = try #require(spec["properties"]?["dynamicProxy"]?["properties"]?["dnsCacheConfig"]?["properties"])
            #expect(cache["maxHosts"]?["default"] == 1024)
            #expect(cache["maxHosts"]?["format"] == "int64")
            #expect(cache["dnsLookupFamily"]?["enum"] == ["auto", "v4_only", "v6_only", "v4_preferred", "all"])
            #expect(cache["hostTTL"]?["description"]?.stringValue?.hasPrefix("TTL for unused hosts.") == true)
            #expect(spec["properties"]?["endpoints"]?["items"]?["properties"]?["fqdn"]?["pattern"] != nil)
            #expect(doc["components"]?["schemas"]?["io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"] != nil)
            let (s3, v2, _) = try await server.send("GET", "/openapi/v2")
            #expect(s3 == 200)
            #expect(v2["swagger"] == "2.0")
            #expect(v2["definitions"]?["dev.apoxy.core.v1alpha2.Backend"]?["x-kubernetes-group-version-kind"] != nil)
            for path in ["/healthz", "/livez", "/readyz"] {
                let (status, _, response) = try await server.send("GET", path)
                #expect(status == 200)
                #expect(response.text == "ok")
            }
            let (unknown, notFound, _) = try await server.send("GET", "/apis/other.example.com/v1/things")
            #expect(unknown == 404)
            #expect(notFound["kind"] == "Status")
        }
    }

    @Test func concurrentWritersOnOneObjectSeeConflictsNotLostUpdates() async throws {
        try await LiveServer.run { server in
            let (_, created, _) = try await server.send("POST", collection, json: backend("race"))
            let version = try #require(created["metadata"]?["resourceVersion"]?.stringValue)
            let port = server.port
            let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
                for i in 0..<8 {
                    group.addTask {
                        let client = try await HTTPConnection.connect(host: "127.0.0.1", port: port)
                        return try await withCleanup {
                            var body = backend("race", endpoints: [["ip": .string("10.0.0.\(i + 1)")]])
                            body["metadata"]?["resourceVersion"] = .string(version)
                            let response = try await client.request(
                                "PUT", item("race"), headers: [("Content-Type", "application/json")], body: body.serialized())
                            return response.status
                        } cleanup: {
                            await client.close()
                        }
                    }
                }
                return try await group.reduce(into: [Int]()) { $0.append($1) }
            }
            #expect(statuses.filter { $0 == 200 }.count == 1)
            #expect(statuses.filter { $0 == 409 }.count == 7)
        }
    }
}
