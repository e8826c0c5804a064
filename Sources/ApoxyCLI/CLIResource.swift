/// A resource the CLI manages: what the generic verbs (`ResourceCommand`) need to know about it.
public protocol CLIResource: Sendable {
    /// `Backend`.
    static var kind: String { get }
    /// `backends`.
    static var plural: String { get }
    /// The API group and version.
    static var group: String { get }
    static var version: String { get }
    /// The command (`backend`) and its aliases (`be`, `backends`); the first alias is used in examples.
    static var commandName: String { get }
    static var aliases: [String] { get }
    /// The columns the server's table has, for help texts.
    static var columns: String { get }
    /// The fields the server selects on, and an example selector.
    static var selectableFields: String { get }
    static var fieldSelectorExample: String { get }
    /// A name for examples.
    static var exampleName: String { get }
}

extension CLIResource {
    /// The collection path (without the server's path prefix).
    static var collectionPath: String { "/apis/\(group)/\(version)/\(plural)" }
    /// `resource.group`, as kubectl names objects (`backend.core.apoxy.dev/web`).
    static var resourceName: String { "\(kind.lowercased()).\(group)" }
    /// The short name used in examples.
    static var shortName: String { aliases.first ?? commandName }
}

/// Backends (`core.apoxy.dev/v1alpha2`).
public enum BackendResource: CLIResource {
    public static let kind = "Backend"
    public static let plural = "backends"
    public static let group = "core.apoxy.dev"
    public static let version = "v1alpha2"
    public static let commandName = "backend"
    public static let aliases = ["be", "backends"]
    public static let columns = "NAME, ENDPOINTS, PROTOCOL, AGE"
    public static let selectableFields = "metadata.name or spec.protocol"
    public static let fieldSelectorExample = "spec.protocol=h2"
    public static let exampleName = "web"
}

/// HTTPRoutes (`gateway.apoxy.dev/v1`).
public enum HTTPRouteResource: CLIResource {
    public static let kind = "HTTPRoute"
    public static let plural = "httproutes"
    public static let group = "gateway.apoxy.dev"
    public static let version = "v1"
    public static let commandName = "route"
    public static let aliases = ["httproute", "routes", "httproutes"]
    public static let columns = "NAME, HOSTNAMES, AGE"
    public static let selectableFields = "metadata.name"
    public static let fieldSelectorExample = "metadata.name=app"
    public static let exampleName = "app"
}

/// `apoxy backend` (aliases `be`, `backends`).
public typealias BackendCommand = ResourceCommand<BackendResource>
/// `apoxy route` (aliases `httproute`, `routes`, `httproutes`).
public typealias RouteCommand = ResourceCommand<HTTPRouteResource>
