import ApoxyAPI
import ApoxyClient
import ApoxyTestSupport
import Foundation
import Testing

private let collection = "/apis/gateway.apoxy.dev/v1/httproutes"
private func item(_ name: String) -> String { "\(collection)/\(name)" }
private let applyType = "application/apply-patch+yaml"
private let mergeType = "application/merge-patch+json"

/// An HTTPRoute document for requests: one rule to `backend`, optionally with hostnames and extra spec members.
func httpRoute(
    _ name: String, hostnames: [String] = [], backend: String = "web", port: Int64? = 8080,
    extraSpec: [String: JSONValue] = [:], extraRule: [String: JSONValue] = [:]
) -> JSONValue {
    var ref: [String: JSONValue] = ["name": .string(backend)]
    if let port { ref["port"] = .integer(port) }
    var rule: [String: JSONValue] = ["backendRefs": [.object(ref)]]
    for (k, v) in extraRule { rule[k] = v }
    var spec: [String: JSONValue] = ["rules": [.object(rule)]]
    if !hostnames.isEmpty { spec["hostnames"] = .array(hostnames.map { .string($0) }) }
    for (k, v) in extraSpec { spec[k] = v }
    return ["apiVersion": "gateway.apoxy.dev/v1", "kind": "HTTPRoute", "metadata": ["name": .string(name)], "spec": .object(spec)]
}

/// The fields of a 422's causes.
private func causeFields(_ error: JSONValue) -> [String] {
    (error["details"]?["causes"]?.arrayValue ?? []).compactMap { $0["field"]?.stringValue }
}

@Suite("HTTPRoutes over HTTP")
struct HTTPRouteAPITests {
    @Test func createGetListWithDefaults() async throws {
        try await LiveServer.run { server in
            let (status, created, _) = try await server.send("POST", collection, json: httpRoute("app", hostnames: ["app.example.com"]))
            #expect(status == 201, "\(created)")
            #expect(created["kind"] == "HTTPRoute")
            #expect(created["apiVersion"] == "gateway.apoxy.dev/v1")
            #expect(created["metadata"]?["generation"] == 1)
            let rule = try #require(created["spec"]?["rules"]?[0])
            #expect(rule["matches"] == [["path": ["type": "PathPrefix", "value": "/"]]])
            #expect(rule["backendRefs"] == [["group": "core.apoxy.dev", "kind": "Backend", "name": "web", "port": 8080, "weight": 1]])
            let (getStatus, fetched, _) = try await server.send("GET", item("app"))
            #expect(getStatus == 200)
            #expect(fetched == created)
            // The typed form a control plane reads.
            let route = HTTPRoute(json: fetched)
            #expect(route.spec.hostnames == ["app.example.com"])
            #expect(route.spec.rules[0].matches == [HTTPRouteMatch()])
            #expect(route.spec.rules[0].backendRefs == [HTTPBackendRef(name: "web", port: 8080)])

            _ = try await server.send("POST", collection, json: httpRoute("other"))
            let (listStatus, list, _) = try await server.send("GET", collection)
            #expect(listStatus == 200)
            #expect(list["kind"] == "HTTPRouteList")
            #expect(list["apiVersion"] == "gateway.apoxy.dev/v1")
            #expect(list["items"]?.arrayValue?.compactMap { $0["metadata"]?["name"]?.stringValue } == ["app", "other"])
            // Field selectors: metadata.name only.
            let (byName, selected, _) = try await server.send("GET", collection + "?fieldSelector=metadata.name%3Dother")
            #expect(byName == 200)
            #expect(selected["items"]?.arrayValue?.count == 1)
            let (unsupported, selectorError, _) = try await server.send("GET", collection + "?fieldSelector=spec.hostnames%3Dx")
            #expect(unsupported == 400)
            #expect(selectorError["message"] == "field label not supported: spec.hostnames")
            // Backends and routes live apart.
            let (_, backends, _) = try await server.send("GET", LiveServer.collection)
            #expect(backends["items"] == [])
        }
    }

    @Test func patchesBumpGenerationAndReplaceWorks() async throws {
        try await LiveServer.run { server in
            let (_, created, _) = try await server.send("POST", collection, json: httpRoute("p"))
            let (s1, merged, _) = try await server.send(
                "PATCH", item("p"), json: ["spec": ["hostnames": ["a.example.com", "*.example.com"]]], contentType: mergeType)
            #expect(s1 == 200)
            #expect(merged["spec"]?["hostnames"] == ["a.example.com", "*.example.com"])
            #expect(merged["metadata"]?["generation"] == 2)
            let (s2, jsonPatched, _) = try await server.send(
                "PATCH", item("p"),
                json: [["op": "add", "path": "/spec/rules/0/backendRefs/-", "value": ["name": "canary", "port": 8080, "weight": 10]]],
                contentType: "application/json-patch+json")
            #expect(s2 == 200)
            #expect(
                jsonPatched["spec"]?["rules"]?[0]?["backendRefs"]?[1] == [
                    "group": "core.apoxy.dev", "kind": "Backend", "name": "canary", "port": 8080, "weight": 10,
                ])
            #expect(jsonPatched["metadata"]?["generation"] == 3)
            // A metadata-only change keeps the generation.
            let (_, labelled, _) = try await server.send(
                "PATCH", item("p"), json: ["metadata": ["labels": ["a": "b"]]], contentType: mergeType)
            #expect(labelled["metadata"]?["generation"] == 3)
            var replacement = httpRoute("p", hostnames: ["b.example.com"], extraRule: ["timeouts": ["request": "90s"]])
            replacement["metadata"]?["resourceVersion"] = labelled["metadata"]?["resourceVersion"]
            let (s3, replaced, _) = try await server.send("PUT", item("p"), json: replacement)
            #expect(s3 == 200)
            #expect(replaced["spec"]?["hostnames"] == ["b.example.com"])
            #expect(replaced["spec"]?["rules"]?[0]?["timeouts"] == ["request": "1m30s"])
            #expect(replaced["metadata"]?["uid"] == created["metadata"]?["uid"])
            // Server-side apply creates and updates.
            let (s4, applied, _) = try await server.send(
                "PATCH", item("ssa") + "?fieldManager=ctl", json: httpRoute("ssa", hostnames: ["ssa.example.com"]), contentType: applyType)
            #expect(s4 == 201)
            #expect(applied["spec"]?["rules"]?[0]?["matches"]?[0]?["path"]?["value"] == "/")
            let yaml = """
                apiVersion: gateway.apoxy.dev/v1
                kind: HTTPRoute
                metadata: {name: ssa}
                spec:
                  hostnames: [ssa.example.com, www.example.com]
                  rules:
                  - backendRefs: [{name: web, port: 8080}]
                """
            let (s5, reapplied, _) = try await server.send(
                "PATCH", item("ssa") + "?fieldManager=ctl", raw: Array(yaml.utf8), contentType: applyType)
            #expect(s5 == 200)
            #expect(reapplied["spec"]?["hostnames"] == ["ssa.example.com", "www.example.com"])
            #expect(reapplied["metadata"]?["generation"] == 2)
        }
    }

    @Test func statusSubresourceAndDelete() async throws {
        try await LiveServer.run { server in
            let parents: JSONValue = [
                [
                    "parentRef": ["group": "core.apoxy.dev", "kind": "Proxy", "name": "proxy-1"],
                    "controllerName": "apoxy.dev/backplane",
                    "conditions": [
                        [
                            "type": "Accepted", "status": "True", "reason": "Accepted", "message": "",
                            "lastTransitionTime": "2026-01-02T03:04:05Z",
                            "observedGeneration": 1,
                        ]
                    ],
                ]
            ]
            var withStatus = httpRoute("st")
            withStatus["status"] = ["parents": parents]
            let (_, created, _) = try await server.send("POST", collection, json: withStatus)
            #expect(created["status"] == nil, "create clears status")
            let (s1, afterStatus, _) = try await server.send(
                "PATCH", item("st") + "/status", json: ["status": ["parents": parents], "spec": ["hostnames": ["x.example.com"]]],
                contentType: mergeType)
            #expect(s1 == 200)
            #expect(afterStatus["status"]?["parents"] == parents)
            #expect(afterStatus["spec"]?["hostnames"] == nil, "status writes change only status")
            #expect(afterStatus["metadata"]?["generation"] == 1)
            let (s2, fetched, _) = try await server.send("GET", item("st") + "/status")
            #expect(s2 == 200)
            #expect(HTTPRoute(json: fetched).status.parents[0].conditions[0].type == "Accepted")
            // Main-resource writes ignore status.
            let (_, afterMain, _) = try await server.send("PATCH", item("st"), json: ["status": ["parents": []]], contentType: mergeType)
            #expect(afterMain["status"]?["parents"] == parents)
            let (s3, e3, _) = try await server.send(
                "PATCH", item("st") + "/status", json: ["status": ["parents": [["parentRef": ["name": "p"], "controllerName": "nope"]]]],
                contentType: mergeType)
            #expect(s3 == 422)
            #expect(causeFields(e3) == ["status.parents[0].controllerName"])

            let (s4, deleted, _) = try await server.send("DELETE", item("st"))
            #expect(s4 == 200)
            #expect(
                deleted["details"] == [
                    "name": "st", "group": "gateway.apoxy.dev", "kind": "httproutes", "uid": created["metadata"]?["uid"] ?? nil,
                ])
            let (s5, missing, _) = try await server.send("GET", item("st"))
            #expect(s5 == 404)
            #expect(missing["message"] == "httproutes.gateway.apoxy.dev \"st\" not found")
            _ = try await server.send("POST", collection, json: httpRoute("c1"))
            let (s6, list, _) = try await server.send("DELETE", collection)
            #expect(s6 == 200)
            #expect(list["kind"] == "HTTPRouteList")
        }
    }

    @Test func invalidRoutesAre422WithFieldPaths() async throws {
        try await LiveServer.run { server in
            let body = httpRoute(
                "bad", hostnames: ["10.0.0.1", "Upper.example.com"], backend: "Bad_Name", port: 0,
                extraRule: [
                    "matches": [["path": ["type": "RegularExpression", "value": "x"], "method": "FETCH"]], "timeouts": ["request": "1us"],
                ])
            let (status, error, _) = try await server.send("POST", collection, json: body)
            #expect(status == 422)
            #expect(error["reason"] == "Invalid")
            #expect(error["details"]?["kind"] == "HTTPRoute")
            #expect(error["details"]?["group"] == "gateway.apoxy.dev")
            #expect(
                Set(causeFields(error)) == [
                    "spec.hostnames[0]", "spec.hostnames[1]", "spec.rules[0].backendRefs[0].name", "spec.rules[0].backendRefs[0].port",
                    "spec.rules[0].matches[0].path.type", "spec.rules[0].matches[0].path.value", "spec.rules[0].matches[0].method",
                    "spec.rules[0].timeouts.request",
                ])
            #expect(error["message"]?.stringValue?.hasPrefix("HTTPRoute.gateway.apoxy.dev \"bad\" is invalid: [") == true)
            let (getStatus, _, _) = try await server.send("GET", item("bad"))
            #expect(getStatus == 404)
        }
    }

    @Test func parentRefsAre422WhateverFieldValidationSays() async throws {
        try await LiveServer.run { server in
            let body = httpRoute("gw", extraSpec: ["parentRefs": [["name": "eg"]]])
            for query in ["", "?fieldValidation=Ignore", "?fieldValidation=Warn", "?fieldValidation=Strict"] {
                let (status, error, _) = try await server.send("POST", collection + query, json: body)
                #expect(status == 422, "\(query)")
                let cause = error["details"]?["causes"]?[0]
                #expect(cause?["field"] == "spec.parentRefs")
                #expect(cause?["reason"] == "FieldValueForbidden")
                #expect(cause?["message"]?.stringValue?.contains("parentRefs is not supported") == true)
            }
            // Every write path: apply, merge patch, JSON patch, replace.
            let (applyStatus, applyError, _) = try await server.send(
                "PATCH", item("gw") + "?fieldManager=ctl", json: body, contentType: applyType)
            #expect(applyStatus == 422)
            #expect(causeFields(applyError) == ["spec.parentRefs"])
            let (_, created, _) = try await server.send("POST", collection, json: httpRoute("gw"))
            let (mergeStatus, mergeError, _) = try await server.send(
                "PATCH", item("gw"),
                json: ["spec": ["rules": [["backendRefs": [["name": "web"]], "filters": [["type": "RequestRedirect"]]]]]],
                contentType: mergeType)
            #expect(mergeStatus == 422)
            #expect(causeFields(mergeError) == ["spec.rules[0].filters"])
            let (patchStatus, patchError, _) = try await server.send(
                "PATCH", item("gw"), json: [["op": "add", "path": "/spec/rules/0/backendRefs/0/namespace", "value": "default"]],
                contentType: "application/json-patch+json")
            #expect(patchStatus == 422)
            #expect(causeFields(patchError) == ["spec.rules[0].backendRefs[0].namespace"])
            var replacement = body
            replacement["metadata"]?["resourceVersion"] = created["metadata"]?["resourceVersion"]
            let (putStatus, putError, _) = try await server.send("PUT", item("gw"), json: replacement)
            #expect(putStatus == 422)
            #expect(causeFields(putError) == ["spec.parentRefs"])
        }
    }

    @Test func unknownFieldsAreHandledAsForBackends() async throws {
        try await LiveServer.run { server in
            let body = httpRoute("u", extraSpec: ["color": "blue"])
            let (strict, error, _) = try await server.send("POST", collection + "?fieldValidation=Strict", json: body)
            #expect(strict == 400)
            #expect(error["message"] == "strict decoding error: unknown field \"spec.color\"")
            let (warn, created, response) = try await server.send("POST", collection, json: body)
            #expect(warn == 201)
            #expect(response.headerValues("Warning") == ["299 - \"unknown field \\\"spec.color\\\"\""])
            #expect(created["spec"]?["color"] == nil)
        }
    }

    @Test func tableHasHostnames() async throws {
        try await LiveServer.run { server in
            _ = try await server.send("POST", collection, json: httpRoute("a", hostnames: ["a.example.com", "*.b.example.com"]))
            _ = try await server.send("POST", collection, json: httpRoute("b"))
            let accept = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json"
            let (status, table, _) = try await server.send("GET", collection, headers: [("Accept", accept)])
            #expect(status == 200)
            #expect(table["kind"] == "Table")
            #expect(table["columnDefinitions"]?.arrayValue?.compactMap { $0["name"]?.stringValue } == ["Name", "Hostnames", "Age"])
            let rows = table["rows"]?.arrayValue ?? []
            #expect(rows.compactMap { $0["cells"]?[0] } == ["a", "b"])
            #expect(rows.compactMap { $0["cells"]?[1] } == ["a.example.com,*.b.example.com", "*"])
        }
    }

    @Test func watchSeesRouteChangesOnly() async throws {
        try await LiveServer.run { server in
            let (status, events) = try await server.watch("", collection: collection)
            #expect(status == 200)
            _ = try await server.send("POST", LiveServer.collection, json: backend("not-a-route"))
            _ = try await server.send("POST", collection, json: httpRoute("w"))
            let added = try #require(try await events.nextChange())
            #expect(added.type == "ADDED")
            #expect(added.object["kind"] == "HTTPRoute")
            #expect(added.object["metadata"]?["name"] == "w")
            _ = try await server.send("DELETE", item("w"))
            let deleted = try #require(try await events.nextChange())
            #expect(deleted.type == "DELETED")
            await events.close()
        }
    }

    @Test func discoveryAndOpenAPIServeBothGroups() async throws {
        try await LiveServer.run { server in
            let (_, groups, _) = try await server.send("GET", "/apis")
            let served = [
                "core.apoxy.dev", "gateway.apoxy.dev", "rbac.authorization.k8s.io", "events.k8s.io", "authorization.k8s.io",
                "authentication.k8s.io",
            ]
            #expect(groups["groups"]?.arrayValue?.compactMap { $0["name"]?.stringValue } == served)
            let (_, group, _) = try await server.send("GET", "/apis/gateway.apoxy.dev")
            #expect(group["preferredVersion"]?["groupVersion"] == "gateway.apoxy.dev/v1")
            let (_, resources, _) = try await server.send("GET", "/apis/gateway.apoxy.dev/v1")
            #expect(resources["resources"]?.arrayValue?.compactMap { $0["name"]?.stringValue } == ["httproutes", "httproutes/status"])
            #expect(resources["resources"]?[0]?["kind"] == "HTTPRoute")
            #expect(resources["resources"]?[0]?["singularName"] == "httproute")
            #expect(resources["resources"]?[0]?["shortNames"] == [])
            let accept = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json"
            let (_, aggregated, _) = try await server.send("GET", "/apis", headers: [("Accept", accept)])
            let items = aggregated["items"]?.arrayValue ?? []
            #expect(items.compactMap { $0["metadata"]?["name"]?.stringValue } == served)
            let routes = try #require(items[1]["versions"]?[0])
            // The self reviews are create-only.
            #expect(items[4]["versions"]?[0]?["resources"]?[0]?["verbs"] == ["create"])
            // events.k8s.io serves the core Events in their newer form, namespaced.
            #expect(items[3]["versions"]?[0]?["resources"]?[0]?["scope"] == "Namespaced")
            #expect(routes["version"] == "v1")
            #expect(routes["resources"]?[0]?["resource"] == "httproutes")
            #expect(routes["resources"]?[0]?["responseKind"]?["kind"] == "HTTPRoute")
            #expect(routes["resources"]?[0]?["subresources"]?[0]?["subresource"] == "status")

            let (_, index, _) = try await server.send("GET", "/openapi/v3")
            #expect(index["paths"]?["apis/core.apoxy.dev/v1alpha2"] != nil)
            let url = try #require(index["paths"]?["apis/gateway.apoxy.dev/v1"]?["serverRelativeURL"]?.stringValue)
            let (s1, doc, _) = try await server.send("GET", url)
            #expect(s1 == 200)
            #expect(doc["paths"]?["/apis/gateway.apoxy.dev/v1/httproutes/{name}/status"]?["patch"] != nil)
            #expect(doc["paths"]?["/apis/core.apoxy.dev/v1alpha2/backends"] == nil, "one document per group-version")
            let schema = try #require(doc["components"]?["schemas"]?["dev.apoxy.gateway.v1.HTTPRoute"])
            #expect(schema["x-kubernetes-group-version-kind"] == [["group": "gateway.apoxy.dev", "version": "v1", "kind": "HTTPRoute"]])
            let spec = try #require(schema["properties"]?["spec"])
            #expect(spec["required"] == ["rules"])
            #expect(spec["properties"]?["parentRefs"] == nil)
            let rule = try #require(spec["properties"]?["rules"]?["items"])
            #expect(rule["properties"]?["matches"]?["default"] == [["path": ["type": "PathPrefix", "value": "/"]]])
            #expect(rule["properties"]?["backendRefs"]?["items"]?["properties"]?["port"]?["maximum"] == 65535)
            #expect(doc["components"]?["schemas"]?["dev.apoxy.gateway.v1.HTTPRouteList"] != nil)
            let (s2, v2, _) = try await server.send("GET", "/openapi/v2")
            #expect(s2 == 200)
            #expect(v2["definitions"]?["dev.apoxy.gateway.v1.HTTPRoute"] != nil)
            #expect(v2["definitions"]?["dev.apoxy.core.v1alpha2.Backend"] != nil)
            #expect(v2["paths"]?["/apis/gateway.apoxy.dev/v1/httproutes"]?["post"] != nil)
        }
    }
}
