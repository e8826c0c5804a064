public import ApoxyAPI

/// One column of the server-side table (`kubectl get`).
public struct TableColumn: Sendable {
    public var name: String
    public var type: String
    public var format: String
    public var description: String
    public var priority: Int

    /// Creates a column.
    public init(name: String, type: String, format: String = "", description: String, priority: Int = 0) {
        self.name = name
        self.type = type
        self.format = format
        self.description = description
        self.priority = priority
    }
}

/// The per-resource behaviour of the generic `ResourceStore` (kube's RESTCreateStrategy, RESTUpdateStrategy,
/// TableConvertor and field-selector hooks in one place). Adding a resource means a type plus one of these.
public protocol ResourceStrategy: Sendable {
    associatedtype Object: APIObject

    /// Canonicalises raw client JSON before schema validation (e.g. lower-casing enums that accept any case).
    func normalize(_ json: inout JSONValue)
    /// Semantic validation the schema cannot express; must not mutate.
    func validate(_ object: Object) -> [FieldError]
    /// Semantic validation of an update (immutable fields); by default `validate`.
    func validateUpdate(_ object: Object, old: Object) -> [FieldError]
    /// Problems with a new object's name; by default kube's DNS-1123 subdomain rule.
    func nameErrors(_ name: String) -> [String]
    /// Whether objects carry `metadata.generation` (custom resources do; kube's Events and Namespaces do not).
    var tracksGeneration: Bool { get }
    /// Whether the desired state differs, which bumps `metadata.generation`.
    func specChanged(old: JSONValue, new: JSONValue) -> Bool
    /// Table columns after NAME (which is always first).
    var tableColumns: [TableColumn] { get }
    /// Cells for the columns after NAME; `age` is rendered by the store.
    func tableCells(_ object: Object) -> [JSONValue]
    /// A table whose columns are all the strategy's, without NAME first and AGE last (kube prints Events so); nil
    /// for the usual layout.
    var fullTableColumns: [TableColumn]? { get }
    /// The cells of a `fullTableColumns` row; `now` is the time ages are measured to.
    func fullTableRow(_ object: Object, now: Int64) -> [JSONValue]
    /// Field selectors this resource supports besides `metadata.name`: dotted JSON paths (kube's CRD
    /// `selectableFields`), whose values `SelectableFields` reads.
    var selectableFields: [String] { get }
    /// Converts the served form to the stored one, for a resource served in another version than it is stored in
    /// (`ResourceDescriptor.storedAs`); nothing by default.
    func toStorage(_ json: inout JSONValue)
    /// Converts a stored object to the served form; the inverse of `toStorage`.
    func fromStorage(_ json: inout JSONValue)
}

extension ResourceStrategy {
    public func normalize(_ json: inout JSONValue) {}

    public func validateUpdate(_ object: Object, old: Object) -> [FieldError] { validate(object) }

    public func nameErrors(_ name: String) -> [String] { NameValidation.dns1123SubdomainErrors(name) }

    public func specChanged(old: JSONValue, new: JSONValue) -> Bool { old["spec"] != new["spec"] }

    public var fullTableColumns: [TableColumn]? { nil }

    public var tracksGeneration: Bool { true }

    public func toStorage(_ json: inout JSONValue) {}

    public func fromStorage(_ json: inout JSONValue) {}

    public func fullTableRow(_ object: Object, now: Int64) -> [JSONValue] { [] }

    /// The descriptor of the served resource (reachable from an `any ResourceStrategy`).
    public var descriptor: ResourceDescriptor { Object.descriptor }
}
