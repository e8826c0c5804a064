import ApoxyAPI
import ApoxyTestSupport
import Foundation
import Testing

/// TLS with HTTP/2, authentication, RBAC and audit on the real `apoxy server` binary, driven by kubectl 1.37 and
/// curl with certificates made by openssl.
@Suite(
    "TLS, authentication, RBAC, audit", .serialized,
    .enabled(if: kubectlAvailable || requireTools, "kubectl not installed: run scripts/test.sh"))
struct AuthTests {
    static let backends = "/apis/core.apoxy.dev/v1alpha2/backends"

    static let web = """
        apiVersion: core.apoxy.dev/v1alpha2
        kind: Backend
        metadata: {name: web}
        spec:
          endpoints: [{ip: 10.0.0.1}]
          protocol: ""
        """

    /// Runs `body` against a fresh secure server, stopping it however `body` ends.
    static func with(_ arguments: [String] = [], _ body: (SecureServer) async throws -> Void) async throws {
        #expect(kubectlAvailable, "kubectl is missing at \(kubectlPath); scripts/test.sh installs it")
        try #require(kubectlAvailable)
        let server = try await SecureServer.start(arguments)
        do {
            try await body(server)
        } catch {
            Issue.record("server log: \(server.server.log)")
            await server.stop()
            throw error
        }
        await server.stop()
    }

    /// Retries `check` until it holds (a binding reaches the authorizer through the watch cache), for at most 10 s.
    static func eventually(_ check: () async throws -> Bool) async throws -> Bool {
        for _ in 0..<100 {
            if try await check() { return true }
            try await Task.sleep(for: .milliseconds(100))
        }
        return false
    }

    @Test(.timeLimit(.minutes(2)))
    func http2ByALPNWithHTTP1FallbackAndAWatchOverAnH2Stream() async throws {
        try await Self.with { server in
            let h2 = try await server.request("GET", Self.backends, token: "admin-token")
            #expect(h2.status == 200)
            #expect(h2.version == "2")
            let h1 = try await server.request("GET", Self.backends, token: "admin-token", extra: ["--http1.1"])
            #expect(h1.status == 200)
            #expect(h1.version == "1.1")

            // A watch over h2 (curl negotiates h2 by ALPN): it ends after timeoutSeconds with the events it saw.
            async let watched = server.curl(
                [
                    "--http2", "-N", "-H", "Authorization: Bearer admin-token", "-w", "\n%{http_version}",
                    server.url + Self.backends + "?watch=true&timeoutSeconds=4",
                ],
                timeout: .seconds(20))
            // Once the server counts the watch as open (its apiserver_registered_watchers gauge), the write follows.
            #expect(
                try await Self.eventually {
                    let metrics = try await server.curl(["-H", "Authorization: Bearer admin-token", server.url + "/metrics"]).stdout
                    return registeredWatchers(kind: "Backend", metrics: metrics) >= 1
                })
            let created = try await server.kubectl("admin", ["apply", "-f", "-"], stdin: Self.web)
            #expect(created.status == 0, "\(created.stderr)")
            let output = try await watched
            #expect(
                output.stdout.contains(#"{"type":"ADDED","object":{"apiVersion":"core.apoxy.dev/v1alpha2","kind":"Backend""#),
                "\(output.stdout) \(output.stderr)")
            #expect(output.stdout.hasSuffix("\n2"), "\(output.stdout)")

            // kubectl over TLS with a token, and with a client certificate (system:masters).
            let list = try await server.kubectl("admin", ["get", "backends", "-o", "name"])
            #expect(list.stdout == "backend.core.apoxy.dev/web\n", "\(list.stderr)")
            let byCertificate = try await server.kubectl("root", ["get", "backend", "web", "-o", "jsonpath={.metadata.name}"])
            #expect(byCertificate.stdout == "web", "\(byCertificate.stderr)")

            // A client certificate from another CA never gets past the handshake.
            let dir = server.directory.path
            let mallory = try await server.curl(["--cert", "\(dir)/mallory.pem", "--key", "\(dir)/mallory.key", server.url + Self.backends])
            #expect(mallory.status != 0)
        }
    }

    @Test(.timeLimit(.minutes(2)))
    func withoutCredentials401WhenAnonymousIsOff() async throws {
        try await Self.with(["--anonymous-auth=false"]) { server in
            let none = try await server.request("GET", Self.backends)
            #expect(none.status == 401)
            #expect(
                none.body == [
                    "kind": "Status", "apiVersion": "v1", "metadata": [:], "status": "Failure", "message": "Unauthorized",
                    "reason": "Unauthorized", "code": 401,
                ])
            let health = try await server.request("GET", "/healthz")
            #expect(health.status == 401)
            let kubectl = try await server.kubectl("wrong", ["get", "backends"])
            #expect(kubectl.status != 0)
            #expect(
                kubectl.stderr.contains(
                    "error: You must be logged in to the server (the server has asked for the client to provide credentials)"),
                "\(kubectl.stderr)")
            let admin = try await server.request("GET", Self.backends, token: "admin-token")
            #expect(admin.status == 200)
        }
    }

    @Test(.timeLimit(.minutes(2)))
    func anonymousAndUnboundUsersAreForbiddenAndBadTokensUnauthorized() async throws {
        try await Self.with { server in
            let anonymous = try await server.request("GET", Self.backends)
            #expect(anonymous.status == 403)
            #expect(anonymous.body["reason"] == "Forbidden")
            #expect(
                anonymous.body["message"]
                    == #"backends.core.apoxy.dev is forbidden: User "system:anonymous" cannot list resource "backends" in API group "core.apoxy.dev" at the cluster scope"#
            )
            // system:public-info-viewer: health and version for everyone; discovery only for authenticated users.
            for path in ["/healthz", "/livez", "/readyz", "/version"] {
                #expect(try await server.request("GET", path).status == 200, "\(path)")
            }
            #expect(try await server.request("GET", "/apis").status == 403)
            #expect(try await server.request("GET", "/apis", token: "nobody-token").status == 200)
            // A presented but invalid credential is 401 even though anonymous requests are allowed.
            let bad = try await server.request("GET", "/healthz", token: "no-such-token")
            #expect(bad.status == 401)
            #expect(bad.body["reason"] == "Unauthorized")

            #expect(try await server.kubectl("admin", ["apply", "-f", "-"], stdin: Self.web).status == 0)
            // A user with no binding: 403 on every verb.
            let verbs: [(String, [String], String)] = [
                (
                    "get", ["get", "backend", "web"],
                    #"backends.core.apoxy.dev "web" is forbidden: User "nobody" cannot get resource "backends" in API group "core.apoxy.dev" at the cluster scope"#
                ),
                (
                    "list", ["get", "backends"],
                    #"backends.core.apoxy.dev is forbidden: User "nobody" cannot list resource "backends" in API group "core.apoxy.dev" at the cluster scope"#
                ),
                ("create", ["create", "-f", "-"], #"User "nobody" cannot create resource "backends""#),
                (
                    "delete", ["delete", "backend", "web"],
                    #"backends.core.apoxy.dev "web" is forbidden: User "nobody" cannot delete resource "backends" in API group "core.apoxy.dev" at the cluster scope"#
                ),
            ]
            for (verb, arguments, message) in verbs {
                let result = try await server.kubectl(
                    "nobody", arguments, stdin: verb == "create" ? Self.web.replacingOccurrences(of: "name: web", with: "name: other") : nil
                )
                #expect(result.status != 0, "\(verb)")
                #expect(result.stderr.contains(message), "\(verb): \(result.stderr)")
            }
            // kubectl reads before it watches or patches, so these go straight to the server.
            let watch = try await server.request("GET", Self.backends + "?watch=true", token: "nobody-token")
            #expect(watch.status == 403)
            #expect(
                watch.body["message"]
                    == #"backends.core.apoxy.dev is forbidden: User "nobody" cannot watch resource "backends" in API group "core.apoxy.dev" at the cluster scope"#
            )
            let patch = try await server.request(
                "PATCH", Self.backends + "/web", token: "nobody-token", body: #"{"spec":{"protocol":"tls"}}"#,
                contentType: "application/merge-patch+json")
            #expect(patch.status == 403)
            #expect(
                patch.body["message"]
                    == #"backends.core.apoxy.dev "web" is forbidden: User "nobody" cannot patch resource "backends" in API group "core.apoxy.dev" at the cluster scope"#
            )
            let update = try await server.request(
                "PUT", Self.backends + "/web", token: "nobody-token",
                body:
                    #"{"apiVersion":"core.apoxy.dev/v1alpha2","kind":"Backend","metadata":{"name":"web"},"spec":{"endpoints":[{"ip":"10.0.0.2"}],"protocol":""}}"#
            )
            #expect(update.status == 403)
            #expect((update.body["message"]?.stringValue ?? "").contains(#"User "nobody" cannot update resource "backends""#))
            let collection = try await server.request("DELETE", Self.backends, token: "nobody-token")
            #expect(collection.status == 403)
            #expect((collection.body["message"]?.stringValue ?? "").contains("cannot deletecollection resource"))
        }
    }

    @Test(.timeLimit(.minutes(3)))
    func rbacManagedWithKubectlTakesEffectWithoutARestart() async throws {
        try await Self.with { server in
            #expect(try await server.kubectl("admin", ["apply", "-f", "-"], stdin: Self.web).status == 0)
            #expect(try await server.kubectl("reader", ["get", "backend", "web"]).status != 0)

            // A reader: get, list, watch.
            let role = try await server.kubectl(
                "admin", ["create", "clusterrole", "backend-reader", "--verb=get,list,watch", "--resource=backends.core.apoxy.dev"])
            #expect(role.status == 0, "\(role.stderr)")
            let binding = try await server.kubectl(
                "admin", ["create", "clusterrolebinding", "readers", "--clusterrole=backend-reader", "--user=reader", "--group=devs"])
            #expect(binding.status == 0, "\(binding.stderr)")
            #expect(try await Self.eventually { try await server.kubectl("reader", ["get", "backend", "web"]).status == 0 })
            #expect(try await server.kubectl("reader", ["get", "backends"]).status == 0)
            let watch = try await server.request("GET", Self.backends + "?watch=true&timeoutSeconds=1", token: "reader-token")
            #expect(watch.status == 200)
            let delete = try await server.kubectl("reader", ["delete", "backend", "web"])
            #expect(
                delete.stderr.contains(
                    #"backends.core.apoxy.dev "web" is forbidden: User "reader" cannot delete resource "backends" in API group "core.apoxy.dev" at the cluster scope"#
                ), "\(delete.stderr)")
            let patch = try await server.kubectl(
                "reader", ["patch", "backend", "web", "--type", "merge", "-p", #"{"spec":{"protocol":"tls"}}"#])
            #expect(patch.status != 0)
            // The group binding reaches alice through her certificate's O.
            #expect(try await server.kubectl("alice", ["get", "backend", "web"]).status == 0)
            #expect(try await server.kubectl("alice", ["delete", "backend", "web"]).status != 0)

            // Status only: the status subresource alone.
            let statusRole = """
                apiVersion: rbac.authorization.k8s.io/v1
                kind: ClusterRole
                metadata: {name: backend-status-writer}
                rules:
                - apiGroups: [core.apoxy.dev]
                  resources: [backends/status]
                  verbs: [get, update, patch]
                ---
                apiVersion: rbac.authorization.k8s.io/v1
                kind: ClusterRoleBinding
                metadata: {name: status-writers}
                roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: backend-status-writer}
                subjects:
                - {kind: Group, apiGroup: rbac.authorization.k8s.io, name: writers}
                """
            let applied = try await server.kubectl("admin", ["apply", "-f", "-"], stdin: statusRole)
            #expect(applied.status == 0, "\(applied.stderr)")
            let condition =
                #"{"status":{"conditions":[{"type":"Accepted","status":"True","reason":"Manual","message":"ok","lastTransitionTime":"2026-01-01T00:00:00Z"}]}}"#
            #expect(
                try await Self.eventually {
                    try await server.request(
                        "PATCH", Self.backends + "/web/status", token: "status-token", body: condition,
                        contentType: "application/merge-patch+json"
                    ).status == 200
                })
            let spec = try await server.request(
                "PATCH", Self.backends + "/web", token: "status-token", body: #"{"spec":{"protocol":"tls"}}"#,
                contentType: "application/merge-patch+json")
            #expect(spec.status == 403)
            #expect(
                spec.body["message"]
                    == #"backends.core.apoxy.dev "web" is forbidden: User "statuswriter" cannot patch resource "backends" in API group "core.apoxy.dev" at the cluster scope"#
            )
            #expect(try await server.request("GET", Self.backends + "/web", token: "status-token").status == 403)
            let statusGet = try await server.request("GET", Self.backends + "/web/status", token: "status-token")
            #expect(statusGet.status == 200)
            #expect(statusGet.body["status"]?["conditions"]?[0]?["reason"] == "Manual")

            // kubectl reads the RBAC objects back; deleting the binding takes the grant away again.
            let roles = try await server.kubectl("admin", ["get", "clusterroles", "-o", "name"])
            #expect(roles.stdout.contains("clusterrole.rbac.authorization.k8s.io/backend-reader"), "\(roles.stderr)")
            let bindingYAML = try await server.kubectl(
                "admin", ["get", "clusterrolebinding", "readers", "-o", "jsonpath={.roleRef.name} {.subjects[*].name}"])
            #expect(bindingYAML.stdout == "backend-reader reader devs", "\(bindingYAML.stderr)")
            #expect(try await server.kubectl("admin", ["delete", "clusterrolebinding", "readers"]).status == 0)
            #expect(try await Self.eventually { try await server.kubectl("reader", ["get", "backend", "web"]).status != 0 })

            // Validation as kube's.
            let invalid = try await server.kubectl(
                "admin", ["create", "-f", "-"],
                stdin: """
                    apiVersion: rbac.authorization.k8s.io/v1
                    kind: ClusterRoleBinding
                    metadata: {name: broken}
                    roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: x}
                    subjects: [{kind: Robot, name: r2}]
                    """)
            #expect(
                invalid.stderr.contains(#"roleRef.kind: Unsupported value: "Role": supported values: "ClusterRole""#), "\(invalid.stderr)")
            #expect(invalid.stderr.contains(#"subjects[0].kind: Unsupported value: "Robot""#), "\(invalid.stderr)")
        }
    }

    /// Events are namespaced: RBAC sees the namespace in the path, a 403 says which, and a ClusterRoleBinding
    /// grants the verb in every namespace.
    @Test(.timeLimit(.minutes(2)))
    func eventsAreAuthorizedInTheirNamespace() async throws {
        try await Self.with { server in
            let event = #"{"metadata":{"name":"e1"},"involvedObject":{"kind":"Backend","name":"web"},"reason":"Test"}"#
            let path = "/api/v1/namespaces/default/events"
            let refused = try await server.request("POST", path, token: "reader-token", body: event)
            #expect(refused.status == 403)
            #expect(
                refused.body["message"]
                    == #"events is forbidden: User "reader" cannot create resource "events" in API group "" in the namespace "default""#)
            _ = try await server.kubectl("admin", ["create", "clusterrole", "event-recorder", "--verb=create,list", "--resource=events"])
            _ = try await server.kubectl(
                "admin", ["create", "clusterrolebinding", "recorders", "--clusterrole=event-recorder", "--user=reader"])
            #expect(
                try await Self.eventually {
                    try await server.kubectl("reader", ["auth", "can-i", "create", "events", "-n", "default"]).stdout == "yes\n"
                })
            #expect(try await server.request("POST", path, token: "reader-token", body: event).status == 201)
            let listed = try await server.kubectl("reader", ["get", "events", "-n", "default", "-o", "name"])
            #expect(listed.stdout == "event/e1\n", "\(listed.stderr)")
            #expect(try await server.request("DELETE", path + "/e1", token: "reader-token").status == 403)
            let audited = try server.auditEvents().last { $0["requestURI"] == .string(path) && $0["verb"] == "create" }
            #expect(audited?["objectRef"]?["namespace"] == "default")
            #expect(audited?["objectRef"]?["resource"] == "events")
        }
    }

    @Test(.timeLimit(.minutes(2)))
    func kubectlAuthCanIAndWhoami() async throws {
        try await Self.with { server in
            _ = try await server.kubectl(
                "admin", ["create", "clusterrole", "backend-reader", "--verb=get,list,watch", "--resource=backends.core.apoxy.dev"])
            _ = try await server.kubectl(
                "admin", ["create", "clusterrolebinding", "readers", "--clusterrole=backend-reader", "--user=reader"])
            #expect(
                try await Self.eventually {
                    try await server.kubectl("reader", ["auth", "can-i", "list", "backends.core.apoxy.dev"]).stdout == "yes\n"
                })
            let cannot = try await server.kubectl("reader", ["auth", "can-i", "delete", "backends.core.apoxy.dev"])
            #expect(cannot.stdout == "no\n", "\(cannot.stderr)")
            #expect(cannot.status == 1)
            #expect(try await server.kubectl("admin", ["auth", "can-i", "delete", "backends.core.apoxy.dev"]).stdout == "yes\n")
            #expect(try await server.kubectl("nobody", ["auth", "can-i", "get", "backends.core.apoxy.dev/web"]).stdout == "no\n")
            #expect(try await server.kubectl("reader", ["auth", "can-i", "get", "/healthz"]).stdout == "yes\n")

            let whoami = try await server.kubectl("reader", ["auth", "whoami", "-o", "json"])
            #expect(whoami.status == 0, "\(whoami.stderr)")
            let review = try JSONValue.parse(Array(whoami.stdout.utf8)).value
            #expect(review["status"]?["userInfo"]?["username"] == "reader")
            #expect(review["status"]?["userInfo"]?["uid"] == "uid-reader")
            #expect(review["status"]?["userInfo"]?["groups"] == ["system:authenticated"])
            let alice = try await server.kubectl("alice", ["auth", "whoami", "-o", "json"])
            let aliceReview = try JSONValue.parse(Array(alice.stdout.utf8)).value
            #expect(aliceReview["status"]?["userInfo"]?["username"] == "alice", "\(alice.stderr)")
            #expect(aliceReview["status"]?["userInfo"]?["groups"] == ["devs", "qa", "system:authenticated"])
            // A client certificate on HTTP/1.1, where the request's channel is the TLS connection itself.
            let dir = server.directory.path
            let h1 = try await server.curl([
                "--http1.1", "--cert", "\(dir)/alice.pem", "--key", "\(dir)/alice.key", "-X", "POST", "-H",
                "Content-Type: application/json",
                "-d", "{}", server.url + "/apis/authentication.k8s.io/v1/selfsubjectreviews",
            ])
            #expect(try JSONValue.parse(Array(h1.stdout.utf8)).value["status"]?["userInfo"]?["username"] == "alice", "\(h1.stdout)")
            let admin = try await server.kubectl("admin", ["auth", "whoami", "-o", "json"])
            let adminReview = try JSONValue.parse(Array(admin.stdout.utf8)).value
            #expect(adminReview["status"]?["userInfo"]?["groups"] == ["system:masters", "ops", "system:authenticated"])
        }
    }

    @Test(.timeLimit(.minutes(2)))
    func everyRequestIsAuditedOnceWithUserVerbAndCode() async throws {
        try await Self.with { server in
            #expect(try await server.request("GET", Self.backends + "/audit-anonymous").status == 403)
            #expect(try await server.request("GET", Self.backends + "/audit-admin", token: "admin-token").status == 404)
            #expect(try await server.request("GET", Self.backends + "/audit-bad", token: "wrong").status == 401)
            #expect(
                try await server.request(
                    "POST", Self.backends, token: "admin-token",
                    body:
                        #"{"apiVersion":"core.apoxy.dev/v1alpha2","kind":"Backend","metadata":{"name":"audited"},"spec":{"endpoints":[{"ip":"10.0.0.1"}],"protocol":""}}"#
                ).status == 201)
            #expect(try await server.request("DELETE", Self.backends + "/audited", token: "admin-token").status == 200)
            #expect(
                try await server.request(
                    "PATCH", Self.backends + "/audited/status", token: "nobody-token", body: "{}",
                    contentType: "application/merge-patch+json"
                ).status == 403)
            #expect(try await server.request("GET", "/healthz").status == 200)

            let events = try server.auditEvents()
            func only(_ uri: String, _ verb: String) -> JSONValue? {
                let matching = events.filter { $0["requestURI"]?.stringValue == uri && $0["verb"]?.stringValue == verb }
                #expect(matching.count == 1, "\(uri) \(verb): \(matching.count) events")
                return matching.first
            }
            let anonymous = only(Self.backends + "/audit-anonymous", "get")
            #expect(anonymous?["user"]?["username"] == "system:anonymous")
            #expect(anonymous?["user"]?["groups"] == ["system:unauthenticated"])
            #expect(anonymous?["responseStatus"]?["code"] == 403)
            #expect(
                anonymous?["objectRef"] == [
                    "resource": "backends", "name": "audit-anonymous", "apiGroup": "core.apoxy.dev", "apiVersion": "v1alpha2",
                ])
            #expect(anonymous?["stage"] == "ResponseComplete")
            #expect(anonymous?["kind"] == "Event")
            #expect(anonymous?["apiVersion"] == "audit.k8s.io/v1")
            #expect(anonymous?["sourceIPs"] == ["127.0.0.1"])
            #expect(anonymous?["auditID"]?.stringValue?.count == 36)
            #expect(anonymous?["requestReceivedTimestamp"]?.stringValue?.count == 27)
            let admin = only(Self.backends + "/audit-admin", "get")
            #expect(admin?["user"]?["username"] == "admin")
            #expect(admin?["user"]?["uid"] == "uid-admin")
            #expect(admin?["user"]?["groups"] == ["system:masters", "ops", "system:authenticated"])
            #expect(admin?["responseStatus"]?["code"] == 404)
            let bad = only(Self.backends + "/audit-bad", "get")
            #expect(bad?["responseStatus"]?["code"] == 401)
            #expect(bad?["user"] == [:])
            #expect(only(Self.backends, "create")?["responseStatus"]?["code"] == 201)
            let deleted = only(Self.backends + "/audited", "delete")
            #expect(deleted?["responseStatus"]?["code"] == 200)
            #expect(deleted?["objectRef"]?["name"] == "audited")
            let status = only(Self.backends + "/audited/status", "patch")
            #expect(status?["objectRef"]?["subresource"] == "status")
            #expect(status?["user"]?["username"] == "nobody")
            #expect(status?["responseStatus"]?["code"] == 403)
            let health = only("/healthz", "get")
            #expect(health?["objectRef"] == nil)
            #expect(health?["responseStatus"]?["code"] == 200)
        }
    }
}
