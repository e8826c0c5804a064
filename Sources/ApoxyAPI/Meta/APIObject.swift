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
    /// Whether objects live in a namespace (`metadata.namespace`, paths under `/namespaces/<namespace>/`).
    public var namespaced: Bool
    /// The resource whose stored objects this one serves in another version (`events.k8s.io/v1` Events are core
    /// `v1` Events in storage, as in kube); nil when it has storage of its own.
    public var storedAs: GroupResource?

    /// The group-version's root: `/apis/<group>/<version>`, or `/api/v1` for the core group ("").
    public var groupVersionPath: String { group.isEmpty ? "/api/\(version)" : "/apis/\(group)/\(version)" }

    /// The collection's path on the API server (`/apis/<group>/<version>/<plural>`); an item is this plus `/<name>`.
    /// For a namespaced resource it is the list across every namespace.
    public var collectionPath: String { "\(groupVersionPath)/\(plural)" }

    /// The collection's path in one namespace (`.../namespaces/<namespace>/<plural>`); `collectionPath` for a
    /// cluster-scoped resource.
    public func collectionPath(namespace: String) -> String {
        namespaced ? "\(groupVersionPath)/namespaces/\(namespace)/\(plural)" : collectionPath
    }

    /// What a stored resource supports.
    public static let allVerbs = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"]

    /// Creates a descriptor.
    public init(
        group: String, version: String, kind: String, listKind: String, plural: String, singular: String,
        shortNames: [String], categories: [String] = [], schema: Schema, description: String,
        hasStatusSubresource: Bool = true, verbs: [String] = ResourceDescriptor.allVerbs, namespaced: Bool = false,
        storedAs: GroupResource? = nil
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
        self.namespaced = namespaced
        self.storedAs = storedAs
    }

    /// Whether kube itself defines the type (the core group or a `*.k8s.io` group) rather than a custom resource
    /// definition: requests then get built-in types' decoding defaults.
    public var isBuiltIn: Bool { group.isEmpty || group.hasSuffix(".k8s.io") }

    /// `group/version`, or the version alone for the core group (`v1`).
    public var apiVersion: String { group.isEmpty ? version : "\(group)/\(version)" }
    /// `backends.core.apoxy.dev`.
    public var groupResource: GroupResource { GroupResource(group: group, resource: plural) }
    /// The OpenAPI component name: reversed group, version, kind (`dev.apoxy.core.v1alpha2.Backend`).
    public var componentName: String { Self.componentName(group: group, version: version, kind: kind) }
    /// The OpenAPI component name of the list kind.
    public var listComponentName: String { Self.componentName(group: group, version: version, kind: listKind) }

    static func componentName(group: String, version: String, kind: String) -> String {
        // kube publishes the core group as io.k8s.api.core (`io.k8s.api.core.v1.Event`).
        if group.isEmpty { return "io.k8s.api.core.\(version).\(kind)" }
        return (group.split(separator: ".").reversed().map(String.init) + [version, kind]).joined(separator: ".")
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
