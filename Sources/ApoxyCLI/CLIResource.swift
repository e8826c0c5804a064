public import ApoxyAPI

/// A resource the CLI manages: what the generic verbs (`ResourceCommand`) need to know about it.
public protocol CLIResource: Sendable {
    /// The served resource's names (kind, plural, group, version), from the API types: one source for each.
    static var descriptor: ResourceDescriptor { get }
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
    /// `Backend`.
    static var kind: String { descriptor.kind }
    /// `backends`.
    static var plural: String { descriptor.plural }
    /// The API group and version.
    static var group: String { descriptor.group }
    static var version: String { descriptor.version }
    /// The collection path (without the server's path prefix).
    static var collectionPath: String { descriptor.collectionPath }
    /// `resource.group`, as kubectl names objects (`backend.core.apoxy.dev/web`).
    static var resourceName: String { "\(kind.lowercased()).\(group)" }
    /// The short name used in examples.
    static var shortName: String { aliases.first ?? commandName }
}

/// Backends (`core.apoxy.dev/v1alpha2`).
public enum BackendResource: CLIResource {
    public static let descriptor = Backend.descriptor
    public static let commandName = "backend"
    public static let aliases = ["be", "backends"]
    public static let columns = "NAME, ENDPOINTS, PROTOCOL, AGE (-o wide adds PROPAGATION and HEALTHY)"
    public static let selectableFields = "metadata.name or spec.protocol"
    public static let fieldSelectorExample = "spec.protocol=h2"
    public static let exampleName = "web"
}

/// HTTPRoutes (`gateway.apoxy.dev/v1`).
public enum HTTPRouteResource: CLIResource {
    public static let descriptor = HTTPRoute.descriptor
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
