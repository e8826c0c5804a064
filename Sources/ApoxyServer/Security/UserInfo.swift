/// Who sent a request, as kube's `user.Info`: a name, a uid and groups.
public struct UserInfo: Sendable, Hashable {
    public var name: String
    public var uid: String
    public var groups: [String]

    /// Creates a user.
    public init(name: String, uid: String = "", groups: [String] = []) {
        self.name = name
        self.uid = uid
        self.groups = groups
    }

    /// `system:anonymous` in `system:unauthenticated`: a request without credentials, when those are allowed.
    public static let anonymous = UserInfo(name: "system:anonymous", groups: [unauthenticatedGroup])
    /// The group every authenticated user is in.
    public static let authenticatedGroup = "system:authenticated"
    /// The group of anonymous requests.
    public static let unauthenticatedGroup = "system:unauthenticated"
    /// The group allowed everything without any binding (kube's bootstrap superuser group).
    public static let mastersGroup = "system:masters"

    /// This user with `system:authenticated` added, as kube's authentication handler does for every user it
    /// authenticated.
    var addingAuthenticatedGroup: UserInfo {
        var user = self
        if !user.groups.contains(Self.authenticatedGroup) { user.groups.append(Self.authenticatedGroup) }
        return user
    }
}
