extension Event {
    /// kube's `ObjectReference`, as `involvedObject` and `related` use it.
    static let objectReferenceSchema = Schema.object(
        "ObjectReference contains enough information to let you inspect or modify the referred object.",
        [
            ("apiVersion", .string("API version of the referent.")),
            (
                "fieldPath",
                .string(
                    "If referring to a piece of an object instead of an entire object, this string should contain a valid JSON/Go field access statement, such as desiredState.manifest.containers[2]."
                )
            ),
            ("kind", .string("Kind of the referent.")),
            ("name", .string("Name of the referent.")),
            ("namespace", .string("Namespace of the referent.")),
            ("resourceVersion", .string("Specific resourceVersion to which this reference is made, if any.")),
            ("uid", .string("UID of the referent.")),
        ],
        component: "io.k8s.api.core.v1.ObjectReference",
        extensions: ["x-kubernetes-map-type": "atomic"]
    )

    static let microTime = Schema.string(
        "MicroTime is version of Time with microsecond level precision.", format: "date-time")

    public static let descriptor = ResourceDescriptor(
        group: "", version: "v1", kind: "Event", listKind: "EventList", plural: "events", singular: "event", shortNames: ["ev"],
        schema: .object(
            "Event is a report of an event somewhere in the cluster.  Events have a limited retention time and triggers and messages may evolve with time.  Event consumers should not rely on the timing of an event with a given Reason reflecting a consistent underlying trigger, or the continued existence of events with that Reason.  Events should be treated as informative, best-effort, supplemental data.",
            [
                ("action", .string("What action was taken/failed regarding to the Regarding object.")),
                ("apiVersion", .string("APIVersion defines the versioned schema of this representation of an object.")),
                ("count", .integer("The number of times this event has occurred.", format: "int32")),
                ("eventTime", microTime),
                (
                    "firstTimestamp",
                    .string("The time at which the event was first recorded. (Time of server receipt is in TypeMeta.)", format: "date-time")
                ),
                ("involvedObject", objectReferenceSchema),
                ("kind", .string("Kind is a string value representing the REST resource this object represents.")),
                ("lastTimestamp", .string("The time at which the most recent occurrence of this event was recorded.", format: "date-time")),
                ("message", .string("A human-readable description of the status of this operation.")),
                ("metadata", ObjectMeta.schema),
                (
                    "reason",
                    .string(
                        "This should be a short, machine understandable string that gives the reason for the transition into the object's current status."
                    )
                ),
                ("related", objectReferenceSchema),
                ("reportingComponent", .string("Name of the controller that emitted this Event, e.g. `kubernetes.io/kubelet`.")),
                ("reportingInstance", .string("ID of the controller instance, e.g. `kubelet-xyzf`.")),
                (
                    "series",
                    .object(
                        "EventSeries contain information on series of events, i.e. thing that was/is happening continuously for some time.",
                        [
                            ("count", .integer("Number of occurrences in this series up to the last heartbeat time", format: "int32")),
                            ("lastObservedTime", microTime),
                        ], component: "io.k8s.api.core.v1.EventSeries")
                ),
                (
                    "source",
                    .object(
                        "EventSource contains information for an event.",
                        [
                            ("component", .string("Component from which the event is generated.")),
                            ("host", .string("Node name on which the event is generated.")),
                        ], component: "io.k8s.api.core.v1.EventSource")
                ),
                ("type", .string("Type of this event (Normal, Warning), new types could be added in the future")),
            ],
            required: ["metadata", "involvedObject"],
            component: "io.k8s.api.core.v1.Event"
        ),
        description: "Event is a report of an event somewhere in the cluster.",
        hasStatusSubresource: false, namespaced: true
    )

    /// kube's limits on new-style Events (`eventTime` set).
    static let reportingInstanceLimit = 128
    static let actionLimit = 128
    static let reasonLimit = 128
    static let noteLimit = 1024

    /// kube's `legacyValidateEvent` for Events written through core `v1`: the namespace agrees with the involved
    /// object's; new-style Events (with `eventTime`) also name their reporter, action and reason.
    public func validate() -> [FieldError] {
        var errors: [FieldError] = []
        let involvedNamespace = involved("namespace")
        let namespaceMismatch = FieldError(
            .invalid, "involvedObject.namespace", .string(involvedNamespace), "does not match event.namespace")
        if body["eventTime"] == nil {
            if involvedNamespace.isEmpty {
                if !metadata.namespace.isEmpty && metadata.namespace != Namespace.default { errors.append(namespaceMismatch) }
            } else if metadata.namespace != involvedNamespace {
                errors.append(namespaceMismatch)
            }
        } else {
            errors += newStyleEventErrors(reference: "involvedObject", controller: "reportingComponent", note: "message")
        }
        return errors
    }
}

extension JSONBackedObject {
    /// kube's checks of a new-style Event (one with `eventTime`), in either version's member names (kube's
    /// `legacyValidateEvent` is likewise told which name the reporter has): an Event about a cluster-scoped object
    /// lives in `default` or `kube-system`; the reporter is a qualified name; instance, action and reason are set and
    /// short; the note is at most 1 kB.
    func newStyleEventErrors(reference: String, controller controllerField: String, note: String) -> [FieldError] {
        var errors: [FieldError] = []
        let referenceNamespace = body[reference]?["namespace"]?.stringValue ?? ""
        if referenceNamespace.isEmpty && metadata.namespace != Namespace.default && metadata.namespace != "kube-system" {
            errors.append(FieldError(.invalid, "\(reference).namespace", .string(referenceNamespace), "does not match event.namespace"))
        }
        let controller = string(controllerField)
        if controller.isEmpty {
            errors.append(FieldError(.required, controllerField))
        } else {
            for message in NameValidation.qualifiedNameErrors(controller) {
                errors.append(FieldError(.invalid, controllerField, .string(controller), message))
            }
        }
        for (field, limit) in [
            ("reportingInstance", Event.reportingInstanceLimit), ("action", Event.actionLimit), ("reason", Event.reasonLimit),
        ] {
            let value = string(field)
            if value.isEmpty { errors.append(FieldError(.required, field)) }
            if value.count > limit { errors.append(FieldError(.invalid, field, "", "can have at most \(limit) characters")) }
        }
        if string(note).count > Event.noteLimit {
            errors.append(FieldError(.invalid, note, "", "can have at most \(Event.noteLimit) characters"))
        }
        return errors
    }
}

extension Namespace {
    public static let descriptor = ResourceDescriptor(
        group: "", version: "v1", kind: "Namespace", listKind: "NamespaceList", plural: "namespaces", singular: "namespace",
        shortNames: ["ns"],
        schema: .object(
            "Namespace provides a scope for Names. Use of multiple namespaces is optional.",
            [
                ("apiVersion", .string("APIVersion defines the versioned schema of this representation of an object.")),
                ("kind", .string("Kind is a string value representing the REST resource this object represents.")),
                ("metadata", ObjectMeta.schema),
                (
                    "spec",
                    .object(
                        "NamespaceSpec describes the attributes on a Namespace.",
                        [
                            (
                                "finalizers",
                                .array(
                                    "Finalizers is an opaque list of values that must be empty to permanently remove object from storage.",
                                    of: .string())
                            )
                        ],
                        component: "io.k8s.api.core.v1.NamespaceSpec")
                ),
                (
                    "status",
                    .object(
                        "NamespaceStatus is information about the current status of a Namespace.",
                        [("phase", .string("Phase is the current lifecycle phase of the namespace.", enum: ["Active", "Terminating"]))],
                        component: "io.k8s.api.core.v1.NamespaceStatus")
                ),
            ],
            component: "io.k8s.api.core.v1.Namespace"
        ),
        description: "Namespace provides a scope for Names. This server serves `default` only, read-only.",
        hasStatusSubresource: false, verbs: ["get", "list", "watch"]
    )
}

extension EventV1 {
    public static let descriptor = ResourceDescriptor(
        group: "events.k8s.io", version: "v1", kind: "Event", listKind: "EventList", plural: "events", singular: "event",
        // `ev` is the core Events' (kubectl would warn that it matches both).
        shortNames: [],
        schema: .object(
            "Event is a report of an event somewhere in the cluster. It generally denotes some state change in the system. Events have a limited retention time and triggers and messages may evolve with time.",
            [
                ("action", .string("action is what action was taken/failed regarding to the regarding object.")),
                ("apiVersion", .string("APIVersion defines the versioned schema of this representation of an object.")),
                (
                    "deprecatedCount",
                    .integer(
                        "deprecatedCount is the deprecated field assuring backward compatibility with core.v1 Event type.", format: "int32")
                ),
                (
                    "deprecatedFirstTimestamp",
                    .string(
                        "deprecatedFirstTimestamp is the deprecated field assuring backward compatibility with core.v1 Event type.",
                        format: "date-time")
                ),
                (
                    "deprecatedLastTimestamp",
                    .string(
                        "deprecatedLastTimestamp is the deprecated field assuring backward compatibility with core.v1 Event type.",
                        format: "date-time")
                ),
                (
                    "deprecatedSource",
                    .object(
                        "EventSource contains information for an event.",
                        [
                            ("component", .string("Component from which the event is generated.")),
                            ("host", .string("Node name on which the event is generated.")),
                        ], component: "io.k8s.api.core.v1.EventSource")
                ),
                ("eventTime", Event.microTime),
                ("kind", .string("Kind is a string value representing the REST resource this object represents.")),
                ("metadata", ObjectMeta.schema),
                (
                    "note",
                    .string("note is a human-readable description of the status of this operation. Maximal length of the note is 1kB.")
                ),
                ("reason", .string("reason is why the action was taken. It is human-readable. This field cannot be empty for new Events.")),
                ("regarding", Event.objectReferenceSchema),
                ("related", Event.objectReferenceSchema),
                (
                    "reportingController",
                    .string("reportingController is the name of the controller that emitted this Event, e.g. `kubernetes.io/kubelet`.")
                ),
                ("reportingInstance", .string("reportingInstance is the ID of the controller instance, e.g. `kubelet-xyzf`.")),
                (
                    "series",
                    .object(
                        "EventSeries contain information on series of events, i.e. thing that was/is happening continuously for some time.",
                        [
                            (
                                "count",
                                .integer(
                                    "count is the number of occurrences in this series up to the last heartbeat time.", format: "int32")
                            ),
                            ("lastObservedTime", Event.microTime),
                        ], required: ["count", "lastObservedTime"], component: "io.k8s.api.events.v1.EventSeries")
                ),
                ("type", .string("type is the type of this event (Normal, Warning), new types could be added in the future.")),
            ],
            required: ["eventTime"],
            component: "io.k8s.api.events.v1.Event"
        ),
        description: "Event is a report of an event somewhere in the cluster (the events.k8s.io/v1 view of core v1 Events).",
        hasStatusSubresource: false, namespaced: true, storedAs: Event.descriptor.groupResource
    )

    /// kube's `ValidateEventCreate` for `events.k8s.io/v1`: new-style Events only (event time, reporter, action and
    /// reason), a type of Normal or Warning, a series of at least two, and no deprecated members.
    public func validate() -> [FieldError] {
        var errors = newStyleEventErrors(reference: "regarding", controller: "reportingController", note: "note")
        if !["Normal", "Warning"].contains(string("type")) {
            errors.append(FieldError(.invalid, "type", "", "has invalid value: \(string("type"))"))
        }
        if let series = body["series"], let count = series["count"]?.integerValue, count < 2 {
            errors.append(FieldError(.invalid, "series.count", "", "should be at least 2"))
        }
        for member in ["deprecatedFirstTimestamp", "deprecatedLastTimestamp", "deprecatedCount", "deprecatedSource"]
        where body[member] != nil {
            errors.append(FieldError(.invalid, member, "", "needs to be unset"))
        }
        return errors
    }
}
