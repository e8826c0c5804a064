/// What the generic registry and HTTP server need to know about a resource type.
public struct ResourceDescriptor: Sendable {
    public var group: String
    public var version: String
    public var kind: String
    public var listKind: String
    /// Lower-case plural used in URLs (`backends`).
    public var plural: String
    public var singular: String
    public var shortNames: [String]
    public var categories: [String]
    /// The schema of the whole object (apiVersion, kind, metadata, spec, status).
    public var schema: Schema
    /// The `description` published for the kind.
    public var description: String
    /// Whether `/status` is served.
    public var hasStatusSubresource: Bool
    /// The verbs discovery lists (every verb for stored resources; `create` for reviews).
    public var verbs: [String]

    /// The collection's path on the API server (`/apis/<group>/<version>/<plural>`); an item is this plus `/<name>`.
    public var collectionPath: String { "/apis/\(group)/\(version)/\(plural)" }

    /// What a stored resource supports.
    public static let allVerbs = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"]

    /// Creates a descriptor.
    public init(
        group: String, version: String, kind: String, listKind: String, plural: String, singular: String,
        shortNames: [String], categories: [String] = [], schema: Schema, description: String,
        hasStatusSubresource: Bool = true, verbs: [String] = ResourceDescriptor.allVerbs
    ) {
        self.group = group
        self.version = version
        self.kind = kind
        self.listKind = listKind
        self.plural = plural
        self.singular = singular
        self.shortNames = shortNames
        self.categories = categories
        self.schema = schema
        self.description = description
        self.hasStatusSubresource = hasStatusSubresource
        self.verbs = verbs
    }

    /// `group/version`.
    public var apiVersion: String { "\(group)/\(version)" }
    /// `backends.core.apoxy.dev`.
    public var groupResource: GroupResource { GroupResource(group: group, resource: plural) }
    /// The OpenAPI component name: reversed group, version, kind (`dev.apoxy.core.v1alpha2.Backend`).
    public var componentName: String { Self.componentName(group: group, version: version, kind: kind) }
    /// The OpenAPI component name of the list kind.
    public var listComponentName: String { Self.componentName(group: group, version: version, kind: listKind) }

    static func componentName(group: String, version: String, kind: String) -> String {
        (group.split(separator: ".").reversed().map(String.init) + [version, kind]).joined(separator: ".")
    }
}

/// A typed API object served by the generic registry.
public protocol APIObject: Sendable {
    /// Names, schema and flags of this resource.
    static var descriptor: ResourceDescriptor { get }
    /// The object's metadata.
    var metadata: ObjectMeta { get set }
    /// Reads the object from JSON that has passed the descriptor's schema.
    init(json: JSONValue)
    /// The full JSON form, with `apiVersion` and `kind`.
    var json: JSONValue { get }
}
