/// A structural schema (the OpenAPI v3 subset kube uses for custom resources). It is the one source for
/// request validation, pruning of unknown fields, defaulting, and the published OpenAPI documents.
public final class Schema: Sendable {
    /// The JSON type a value must have.
    public enum Kind: String, Sendable {
        case object, array, string, integer, number, boolean
    }

    /// A pattern published in OpenAPI together with the Swift check that enforces it.
    public struct Pattern: Sendable {
        /// The ECMA-262 regular expression published as `pattern`.
        public let regex: String
        /// The enforcement (hand-written, so no regex engine runs per request).
        public let matches: @Sendable (String) -> Bool

        /// Creates a pattern.
        public init(_ regex: String, matches: @escaping @Sendable (String) -> Bool) {
            self.regex = regex
            self.matches = matches
        }
    }

    public let kind: Kind
    public let description: String?
    /// Object members in publication order.
    public let properties: [(name: String, schema: Schema)]
    public let required: [String]
    public let items: Schema?
    /// For maps (`labels`): the schema of every value.
    public let additionalProperties: Schema?
    public let enumValues: [String]?
    public let pattern: Pattern?
    public let format: String?
    public let minimum: Int64?
    public let maximum: Int64?
    public let minLength: Int?
    public let maxLength: Int?
    public let minItems: Int?
    public let maxItems: Int?
    public let defaultValue: JSONValue?
    /// Keep members not listed in `properties` (kube's `x-kubernetes-preserve-unknown-fields`).
    public let preservesUnknownFields: Bool
    /// When set, OpenAPI documents reference this component instead of inlining the schema.
    public let componentName: String?
    /// Vendor extensions (`x-kubernetes-list-type`, ...), published as is.
    public let extensions: [String: JSONValue]
    /// Members a client may know from an upstream API but this server refuses, with the reason: any non-null value
    /// is a Forbidden error whatever `fieldValidation` says (pruning them silently would drop intent). Not published.
    public let unsupportedProperties: [String: String]

    private let propertyIndex: [String: Schema]

    /// Creates a schema; prefer the static builders.
    public init(
        kind: Kind, description: String? = nil, properties: [(name: String, schema: Schema)] = [],
        required: [String] = [], items: Schema? = nil, additionalProperties: Schema? = nil,
        enumValues: [String]? = nil, pattern: Pattern? = nil, format: String? = nil,
        minimum: Int64? = nil, maximum: Int64? = nil, minLength: Int? = nil, maxLength: Int? = nil,
        minItems: Int? = nil, maxItems: Int? = nil, defaultValue: JSONValue? = nil,
        preservesUnknownFields: Bool = false, componentName: String? = nil, extensions: [String: JSONValue] = [:],
        unsupportedProperties: [String: String] = [:]
    ) {
        self.kind = kind
        self.description = description
        self.properties = properties
        self.required = required
        self.items = items
        self.additionalProperties = additionalProperties
        self.enumValues = enumValues
        self.pattern = pattern
        self.format = format
        self.minimum = minimum
        self.maximum = maximum
        self.minLength = minLength
        self.maxLength = maxLength
        self.minItems = minItems
        self.maxItems = maxItems
        self.defaultValue = defaultValue
        self.preservesUnknownFields = preservesUnknownFields
        self.componentName = componentName
        self.extensions = extensions
        self.unsupportedProperties = unsupportedProperties
        self.propertyIndex = Dictionary(properties.map { ($0.name, $0.schema) }, uniquingKeysWith: { first, _ in first })
    }

    /// The schema of a named member, if declared.
    public func property(_ name: String) -> Schema? { propertyIndex[name] }

    /// A string schema.
    public static func string(
        _ description: String? = nil, enum values: [String]? = nil, pattern: Pattern? = nil, format: String? = nil,
        minLength: Int? = nil, maxLength: Int? = nil, default defaultValue: JSONValue? = nil
    ) -> Schema {
        Schema(
            kind: .string, description: description, enumValues: values, pattern: pattern, format: format,
            minLength: minLength, maxLength: maxLength, defaultValue: defaultValue)
    }

    /// An integer schema.
    public static func integer(
        _ description: String? = nil, format: String? = "int64", minimum: Int64? = nil, maximum: Int64? = nil,
        default defaultValue: JSONValue? = nil
    ) -> Schema {
        Schema(
            kind: .integer, description: description, format: format, minimum: minimum, maximum: maximum,
            defaultValue: defaultValue)
    }

    /// An object schema with declared members; `unsupported` names members refused with a reason.
    public static func object(
        _ description: String? = nil, _ properties: [(name: String, schema: Schema)], required: [String] = [],
        default defaultValue: JSONValue? = nil, component: String? = nil, extensions: [String: JSONValue] = [:],
        unsupported: [String: String] = [:]
    ) -> Schema {
        Schema(
            kind: .object, description: description, properties: properties, required: required,
            defaultValue: defaultValue, componentName: component, extensions: extensions,
            unsupportedProperties: unsupported)
    }

    /// A map from string keys to values of one schema.
    public static func map(_ description: String? = nil, of values: Schema) -> Schema {
        Schema(kind: .object, description: description, additionalProperties: values)
    }

    /// An array schema.
    public static func array(
        _ description: String? = nil, of items: Schema, minItems: Int? = nil, maxItems: Int? = nil,
        default defaultValue: JSONValue? = nil, extensions: [String: JSONValue] = [:]
    ) -> Schema {
        Schema(
            kind: .array, description: description, items: items, minItems: minItems, maxItems: maxItems,
            defaultValue: defaultValue, extensions: extensions)
    }

    /// A free-form value kept as sent (used for metadata members this server stores but does not interpret).
    public static func opaque(_ kind: Kind, _ description: String? = nil) -> Schema {
        Schema(kind: kind, description: description, preservesUnknownFields: true)
    }
}
