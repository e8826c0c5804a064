import ApoxyAPI
import Hummingbird

/// `authorization.k8s.io/v1` SelfSubjectAccessReview (`kubectl auth can-i`) and `authentication.k8s.io/v1`
/// SelfSubjectReview (`kubectl auth whoami`): create-only resources answered from the request's own user.
struct Reviews: Sendable {
    let authorizer: any Authorizer

    static let accessReview = ResourceDescriptor(
        group: "authorization.k8s.io", version: "v1", kind: "SelfSubjectAccessReview", listKind: "SelfSubjectAccessReviewList",
        plural: "selfsubjectaccessreviews", singular: "selfsubjectaccessreview", shortNames: [],
        schema: .object("SelfSubjectAccessReview checks whether or the current user can perform an action.", []),
        description: "SelfSubjectAccessReview checks whether or the current user can perform an action.",
        hasStatusSubresource: false, verbs: ["create"])
    static let subjectReview = ResourceDescriptor(
        group: "authentication.k8s.io", version: "v1", kind: "SelfSubjectReview", listKind: "SelfSubjectReviewList",
        plural: "selfsubjectreviews", singular: "selfsubjectreview", shortNames: [],
        schema: .object(
            "SelfSubjectReview contains the user information that the kube-apiserver has about the user making this request.", []),
        description: "SelfSubjectReview contains the user information that the kube-apiserver has about the user making this request.",
        hasStatusSubresource: false, verbs: ["create"])

    func register(on router: Router<APIRequestContext>) {
        router.post(RouterPath("/apis/authorization.k8s.io/v1/selfsubjectaccessreviews")) { request, context in
            try await self.accessReview(request, user: context.user ?? .anonymous)
        }
        router.post(RouterPath("/apis/authentication.k8s.io/v1/selfsubjectreviews")) { _, context in
            self.subjectReview(user: context.user ?? .anonymous)
        }
    }

    func accessReview(_ request: Request, user: UserInfo) async throws -> Response {
        let buffer = try await request.body.collect(upTo: APIServerConfiguration.maxRequestBodyBytes)
        let bytes = Array(buffer.readableBytesView)
        let body: JSONValue
        if MediaType.list(request.headers[.contentType]).first?.type == KubeProtobuf.mediaType {
            // kubectl's typed client sends protobuf.
            body = try KubeProtobuf.decode(bytes)
        } else {
            do {
                body = try JSONValue.parse(bytes).value
            } catch {
                throw StatusError.badRequest("error decoding SelfSubjectAccessReview: \(error)")
            }
        }
        let spec = body["spec"] ?? .object([:])
        let attributes: AccessAttributes
        if let resource = spec["resourceAttributes"], resource != .null {
            func field(_ name: String) -> String { resource[name]?.stringValue ?? "" }
            attributes = .resource(
                verb: field("verb"), apiGroup: field("group"), apiVersion: field("version"), resource: field("resource"),
                subresource: field("subresource"), name: field("name"), namespace: field("namespace"))
        } else if let nonResource = spec["nonResourceAttributes"], nonResource != .null {
            attributes = .nonResource(verb: nonResource["verb"]?.stringValue ?? "", path: nonResource["path"]?.stringValue ?? "")
        } else {
            throw StatusError.invalid(
                kind: "SelfSubjectAccessReview", group: "authorization.k8s.io", name: "",
                [
                    FieldError(
                        .invalid, "spec.resourceAttributes", nil,
                        "exactly one of nonResourceAttributes or resourceAttributes must be specified")
                ])
        }
        var status: JSONObject = ["allowed": false]
        if authorizer.authorize(user, attributes) == .allow { status["allowed"] = true }
        let review: JSONValue = [
            "kind": "SelfSubjectAccessReview", "apiVersion": "authorization.k8s.io/v1",
            "metadata": ["creationTimestamp": .null], "spec": spec, "status": .object(status),
        ]
        return APIResponse.json(review, status: .created)
    }

    func subjectReview(user: UserInfo) -> Response {
        var info: JSONObject = ["username": .string(user.name), "groups": .array(user.groups.map { .string($0) })]
        if !user.uid.isEmpty { info["uid"] = .string(user.uid) }
        let review: JSONValue = [
            "kind": "SelfSubjectReview", "apiVersion": "authentication.k8s.io/v1",
            "metadata": ["creationTimestamp": .null], "status": ["userInfo": .object(info)],
        ]
        return APIResponse.json(review, status: .created)
    }
}
