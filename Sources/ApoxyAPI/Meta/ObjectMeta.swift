/// metav1.ObjectMeta: the members this server sets or interprets are typed;
/// `managedFields` and `ownerReferences` are stored as sent.
public struct ObjectMeta: Sendable, Hashable {
    public var name: String = ""
    public var generateName: String = ""
    /// Empty for cluster-scoped objects.
    public var namespace: String = ""
    public var uid: String = ""
    public var resourceVersion: String = ""
    public var generation: Int64 = 0
    /// Seconds since the epoch.
    public var creationTimestamp: Int64?
    /// Seconds since the epoch; set once graceful deletion has started.
    public var deletionTimestamp: Int64?
    public var deletionGracePeriodSeconds: Int64?
    public var labels: [String: String] = [:]
    public var annotations: [String: String] = [:]
    public var finalizers: [String] = []
    public var ownerReferences: JSONValue?
    public var managedFields: JSONValue?

    /// An empty ObjectMeta.
    public init(name: String = "") { self.name = name }

    /// Reads ObjectMeta from JSON that has passed `ObjectMeta.schema` (members of the wrong type are ignored).
    public init(json: JSONValue) {
        name = json["name"]?.stringValue ?? ""
        generateName = json["generateName"]?.stringValue ?? ""
        namespace = json["namespace"]?.stringValue ?? ""
        uid = json["uid"]?.stringValue ?? ""
        resourceVersion = json["resourceVersion"]?.stringValue ?? ""
        generation = json["generation"]?.integerValue ?? 0
        creationTimestamp = json["creationTimestamp"]?.stringValue.flatMap(RFC3339.parse)
        deletionTimestamp = json["deletionTimestamp"]?.stringValue.flatMap(RFC3339.parse)
        deletionGracePeriodSeconds = json["deletionGracePeriodSeconds"]?.integerValue
        labels = (json["labels"]?.objectValue ?? [:]).compactMapValues(\.stringValue)
        annotations = (json["annotations"]?.objectValue ?? [:]).compactMapValues(\.stringValue)
        finalizers = (json["finalizers"]?.arrayValue ?? []).compactMap(\.stringValue)
        ownerReferences = json["ownerReferences"]
        managedFields = json["managedFields"]
    }

    /// The JSON form; empty members are omitted as Go's `omitempty` does.
    public var json: JSONValue {
        var m = JSONObject()
        if !name.isEmpty { m["name"] = .string(name) }
        if !generateName.isEmpty { m["generateName"] = .string(generateName) }
        if !namespace.isEmpty { m["namespace"] = .string(namespace) }
        if !uid.isEmpty { m["uid"] = .string(uid) }
        if !resourceVersion.isEmpty { m["resourceVersion"] = .string(resourceVersion) }
        if generation != 0 { m["generation"] = .integer(generation) }
        if let creationTimestamp { m["creationTimestamp"] = .string(RFC3339.format(creationTimestamp)) }
        if let deletionTimestamp { m["deletionTimestamp"] = .string(RFC3339.format(deletionTimestamp)) }
        if let deletionGracePeriodSeconds { m["deletionGracePeriodSeconds"] = .integer(deletionGracePeriodSeconds) }
        if !labels.isEmpty { m["labels"] = .object(labels.mapValues { .string($0) }) }
        if !annotations.isEmpty { m["annotations"] = .object(annotations.mapValues { .string($0) }) }
        if !finalizers.isEmpty { m["finalizers"] = .array(finalizers.map { .string($0) }) }
        if let ownerReferences, !(ownerReferences.arrayValue?.isEmpty ?? false) { m["ownerReferences"] = ownerReferences }
        if let managedFields, !(managedFields.arrayValue?.isEmpty ?? false) { m["managedFields"] = managedFields }
        return .object(m)
    }

    /// The structural schema of ObjectMeta; published as the `io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta` component.
    public static let schema = Schema.object(
        "ObjectMeta is metadata that all persisted resources must have, which includes all objects users must create.",
        [
            (
                "name",
                .string(
                    "Name must be unique within a namespace. Cannot be updated. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names"
                )
            ),
            (
                "generateName",
                .string(
                    "GenerateName is an optional prefix, used by the server, to generate a unique name ONLY IF the Name field has not been provided."
                )
            ),
            (
                "namespace",
                .string(
                    "Namespace defines the space within which each name must be unique. An empty namespace is equivalent to the \"default\" namespace, but \"default\" is the canonical representation. Not all objects are required to be scoped to a namespace - the value of this field for those objects will be empty."
                )
            ),
            ("uid", .string("UID is the unique in time and space value for this object. Populated by the system. Read-only.")),
            (
                "resourceVersion",
                .string(
                    "An opaque value that represents the internal version of this object. Populated by the system. Read-only. Value must be treated as opaque by clients."
                )
            ),
            (
                "generation",
                .integer("A sequence number representing a specific generation of the desired state. Populated by the system. Read-only.")
            ),
            (
                "creationTimestamp",
                .string(
                    "CreationTimestamp is a timestamp representing the server time when this object was created. Populated by the system. Read-only.",
                    format: "date-time")
            ),
            (
                "deletionTimestamp",
                .string(
                    "DeletionTimestamp is RFC 3339 date and time at which this resource will be deleted. Set by the server when a graceful deletion is requested. Read-only.",
                    format: "date-time")
            ),
            (
                "deletionGracePeriodSeconds",
                .integer(
                    "Number of seconds allowed for this object to gracefully terminate before it will be removed from the system. Only set when deletionTimestamp is also set."
                )
            ),
            (
                "labels",
                .map("Map of string keys and values that can be used to organize and categorize (scope and select) objects.", of: .string())
            ),
            (
                "annotations",
                .map(
                    "Annotations is an unstructured key value map stored with a resource that may be set by external tools to store and retrieve arbitrary metadata.",
                    of: .string())
            ),
            (
                "finalizers",
                .array(
                    "Must be empty before the object is deleted from the registry. Each entry is an identifier for the responsible component that will remove the entry from the list.",
                    of: .string(), extensions: ["x-kubernetes-list-type": "set"])
            ),
            ("ownerReferences", .opaque(.array, "List of objects depended by this object.")),
            (
                "managedFields",
                .opaque(.array, "ManagedFields maps workflow-id and version to the set of fields that are managed by that workflow.")
            ),
            ("selfLink", .string("Deprecated: selfLink is a legacy read-only field that is no longer populated by the system.")),
        ],
        component: "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"
    )

    /// Validates the members a client controls (labels, annotations, finalizers) under `path`.
    public func validate(at path: FieldPath) -> [FieldError] {
        var errors: [FieldError] = []
        for key in labels.keys.sorted() {
            for message in NameValidation.qualifiedNameErrors(key) {
                errors.append(FieldError(.invalid, path.child("labels").description, .string(key), message))
            }
            for message in NameValidation.labelValueErrors(labels[key]!) {
                errors.append(FieldError(.invalid, path.child("labels").description, .string(labels[key]!), message))
            }
        }
        var annotationBytes = 0
        for key in annotations.keys.sorted() {
            annotationBytes += key.utf8.count + annotations[key]!.utf8.count
            for message in NameValidation.qualifiedNameErrors(key.lowercased()) {
                errors.append(FieldError(.invalid, path.child("annotations").description, .string(key), message))
            }
        }
        if annotationBytes > 262_144 {
            errors.append(FieldError(.tooLong, path.child("annotations").description, nil, "may not be more than 262144 bytes"))
        }
        var seen = Set<String>()
        for (i, finalizer) in finalizers.enumerated() {
            for message in NameValidation.qualifiedNameErrors(finalizer) {
                errors.append(FieldError(.invalid, path.child("finalizers").index(i).description, .string(finalizer), message))
            }
            if !seen.insert(finalizer).inserted {
                errors.append(FieldError(.duplicate, path.child("finalizers").index(i).description, .string(finalizer)))
            }
        }
        return errors
    }
}
