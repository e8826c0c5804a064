public import ApoxyAPI
import ApoxyRegistry
import Logging
public import ServiceLifecycle
import Synchronization

/// Roles and bindings the authorizer knows without storing them; a stored object of the same name replaces one.
public struct BuiltInPolicy: Sendable {
    public var roles: [ClusterRole]
    public var bindings: [ClusterRoleBinding]

    /// Creates a policy.
    public init(roles: [ClusterRole] = [], bindings: [ClusterRoleBinding] = []) {
        self.roles = roles
        self.bindings = bindings
    }

    /// kube-apiserver's bootstrap policy as far as this server needs it, plus the ClusterRole `apoxy:control-plane`
    /// (unbound) for backplanes to be bound to.
    public static let kube = BuiltInPolicy(
        roles: BootstrapPolicy.roles + [DevCertificates.controlPlaneRole], bindings: BootstrapPolicy.bindings)
}

/// The ClusterRoles kube-apiserver bootstraps that this server needs, built in (not stored): health and version
/// for everyone, discovery and the self-reviews for every authenticated user.
enum BootstrapPolicy {
    static let publicInfoViewer = ClusterRole(
        metadata: ObjectMeta(name: "system:public-info-viewer"),
        rules: [PolicyRule(verbs: ["get"], nonResourceURLs: ["/healthz", "/livez", "/readyz", "/version", "/version/"])])
    static let discovery = ClusterRole(
        metadata: ObjectMeta(name: "system:discovery"),
        rules: [
            PolicyRule(
                verbs: ["get"],
                nonResourceURLs: [
                    "/api", "/api/*", "/apis", "/apis/*", "/healthz", "/livez", "/openapi", "/openapi/*", "/readyz", "/version",
                    "/version/",
                ])
        ])
    static let basicUser = ClusterRole(
        metadata: ObjectMeta(name: "system:basic-user"),
        rules: [
            PolicyRule(
                verbs: ["create"], apiGroups: ["authorization.k8s.io"], resources: ["selfsubjectaccessreviews", "selfsubjectrulesreviews"]),
            PolicyRule(verbs: ["create"], apiGroups: ["authentication.k8s.io"], resources: ["selfsubjectreviews"]),
        ])

    /// Scrapers: put a scraper's identity in group `system:monitoring` (kube's bootstrap role and binding).
    static let monitoring = ClusterRole(
        metadata: ObjectMeta(name: "system:monitoring"),
        rules: [
            PolicyRule(
                verbs: ["get"],
                nonResourceURLs: ["/healthz", "/healthz/*", "/livez", "/livez/*", "/metrics", "/metrics/slis", "/readyz", "/readyz/*"])
        ])

    static let roles = [publicInfoViewer, discovery, basicUser, monitoring]

    static let bindings = [
        ClusterRoleBinding(
            metadata: ObjectMeta(name: "system:public-info-viewer"), roleRef: RoleRef(name: "system:public-info-viewer"),
            subjects: [
                Subject(kind: "Group", name: UserInfo.authenticatedGroup, apiGroup: RBAC.group),
                Subject(kind: "Group", name: UserInfo.unauthenticatedGroup, apiGroup: RBAC.group),
            ]),
        ClusterRoleBinding(
            metadata: ObjectMeta(name: "system:discovery"), roleRef: RoleRef(name: "system:discovery"),
            subjects: [Subject(kind: "Group", name: UserInfo.authenticatedGroup, apiGroup: RBAC.group)]),
        ClusterRoleBinding(
            metadata: ObjectMeta(name: "system:monitoring"), roleRef: RoleRef(name: "system:monitoring"),
            subjects: [Subject(kind: "Group", name: "system:monitoring", apiGroup: RBAC.group)]),
        ClusterRoleBinding(
            metadata: ObjectMeta(name: "system:basic-user"), roleRef: RoleRef(name: "system:basic-user"),
            subjects: [Subject(kind: "Group", name: UserInfo.authenticatedGroup, apiGroup: RBAC.group)]),
    ]
}

/// The RBAC rules granted to each user and group, resolved from ClusterRoleBindings and ClusterRoles.
struct RBACPolicy: Sendable {
    var userRules: [String: [PolicyRule]] = [:]
    var groupRules: [String: [PolicyRule]] = [:]

    /// Resolves `bindings` against `roles`; a stored role or binding replaces the built-in one of its name. A
    /// binding to a role that does not exist grants nothing.
    init(roles: [ClusterRole], bindings: [ClusterRoleBinding], builtIn: BuiltInPolicy = .kube) {
        var rulesByRole: [String: [PolicyRule]] = [:]
        for role in builtIn.roles { rulesByRole[role.metadata.name] = role.rules }
        for role in roles { rulesByRole[role.metadata.name] = role.rules }
        let storedBindings = Set(bindings.map(\.metadata.name))
        let all = bindings + builtIn.bindings.filter { !storedBindings.contains($0.metadata.name) }
        for binding in all {
            guard let rules = rulesByRole[binding.roleRef.name] else { continue }
            for subject in binding.subjects {
                switch subject.kind {
                case "User": userRules[subject.name, default: []] += rules
                case "Group": groupRules[subject.name, default: []] += rules
                case "ServiceAccount":
                    userRules["system:serviceaccount:\(subject.namespace):\(subject.name)", default: []] += rules
                default: break
                }
            }
        }
    }

    /// Whether any rule granted to `user` or its groups allows `request`.
    func allows(_ user: UserInfo, _ request: AccessAttributes) -> Bool {
        if userRules[user.name]?.contains(where: { $0.allows(request) }) == true { return true }
        return user.groups.contains { group in groupRules[group]?.contains(where: { $0.allows(request) }) == true }
    }
}

/// `--authorization-mode RBAC`: decisions from an in-memory policy that follows the ClusterRole and
/// ClusterRoleBinding watch caches (no storage read per request), so a binding made with kubectl applies at once.
/// `system:masters` is allowed everything.
public final class RBACAuthorizer: Authorizer, Service {
    private let roles: WatchCache<ClusterRole>
    private let bindings: WatchCache<ClusterRoleBinding>
    private let builtIn: BuiltInPolicy
    private let policy: Mutex<RBACPolicy>
    private let logger: Logger

    /// An authorizer over the two caches (which must run as services too) and `builtIn`.
    init(roles: WatchCache<ClusterRole>, bindings: WatchCache<ClusterRoleBinding>, builtIn: BuiltInPolicy, logger: Logger) {
        self.roles = roles
        self.bindings = bindings
        self.builtIn = builtIn
        self.policy = Mutex(RBACPolicy(roles: [], bindings: [], builtIn: builtIn))
        self.logger = logger
    }

    public func authorize(_ user: UserInfo, _ request: AccessAttributes) -> AuthorizationDecision {
        if user.groups.contains(UserInfo.mastersGroup) { return .allow }
        return policy.withLock { $0.allows(user, request) } ? .allow : .deny(reason: "")
    }

    /// Rebuilds the policy whenever either cache changes, until shutdown.
    public func run() async throws {
        await cancelWhenGracefulShutdown {
            await withTaskGroup(of: Void.self) { group in
                group.addTask { await self.follow(self.roles) }
                group.addTask { await self.follow(self.bindings) }
            }
        }
    }

    /// Follows one cache: subscribes once it is ready, rebuilds on every change, resubscribes if the stream ends.
    private func follow<Object: APIObject>(_ cache: WatchCache<Object>) async {
        while !Task.isCancelled {
            guard let (_, _, subscription) = cache.watchFromCurrentState() else {
                try? await Task.sleep(for: .milliseconds(20))
                continue
            }
            rebuild()
            do {
                for try await item in subscription.stream {
                    if case .event = item { rebuild() }
                }
            } catch {
                logger.debug("RBAC policy watch restarting", metadata: ["error": "\(error)"])
            }
        }
    }

    /// Builds the policy from both caches' current objects (a handful; cheaper than keeping deltas right).
    private func rebuild() {
        let roleObjects: [ClusterRole] = roles.snapshot().objects.map { $0.decoded() }
        let bindingObjects: [ClusterRoleBinding] = bindings.snapshot().objects.map { $0.decoded() }
        let rebuilt = RBACPolicy(roles: roleObjects, bindings: bindingObjects, builtIn: builtIn)
        policy.withLock { $0 = rebuilt }
    }
}
