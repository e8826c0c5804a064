/// metav1.Condition: one observation of an object's state, map-keyed by `type` in a conditions list.
public struct Condition: Sendable, Hashable {
    public var type: String
    /// `True`, `False` or `Unknown`.
    public var status: String
    public var observedGeneration: Int64?
    /// Seconds since the epoch.
    public var lastTransitionTime: Int64
    public var reason: String
    public var message: String

    /// Creates a condition.
    public init(type: String, status: String, observedGeneration: Int64? = nil, lastTransitionTime: Int64, reason: String, message: String)
    {
        self.type = type
        self.status = status
        self.observedGeneration = observedGeneration
        self.lastTransitionTime = lastTransitionTime
        self.reason = reason
        self.message = message
    }

    /// Reads a condition from schema-checked JSON.
    public init(json: JSONValue) {
        type = json["type"]?.stringValue ?? ""
        status = json["status"]?.stringValue ?? ""
        observedGeneration = json["observedGeneration"]?.integerValue
        lastTransitionTime = json["lastTransitionTime"]?.stringValue.flatMap(RFC3339.parse) ?? 0
        reason = json["reason"]?.stringValue ?? ""
        message = json["message"]?.stringValue ?? ""
    }

    /// The JSON form.
    public var json: JSONValue {
        var m: JSONObject = [
            "type": .string(type), "status": .string(status), "lastTransitionTime": .string(RFC3339.format(lastTransitionTime)),
            "reason": .string(reason), "message": .string(message),
        ]
        if let observedGeneration { m["observedGeneration"] = .integer(observedGeneration) }
        return .object(m)
    }

    /// `^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$`
    static func isValidReason(_ reason: String) -> Bool {
        let b = Array(reason.utf8)
        guard let first = b.first, let last = b.last else { return false }
        func letter(_ c: UInt8) -> Bool { (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) }
        func word(_ c: UInt8) -> Bool { letter(c) || (c >= 0x30 && c <= 0x39) || c == UInt8(ascii: "_") }
        return letter(first) && (b.count == 1 || word(last))
            && b.allSatisfy { word($0) || $0 == UInt8(ascii: ",") || $0 == UInt8(ascii: ":") }
    }

    /// The schema of one condition, with metav1.Condition's published validation.
    public static let schema = Schema.object(
        "Condition contains details for one aspect of the current state of this API Resource.",
        [
            ("type", .string("type of condition in CamelCase or in foo.example.com/CamelCase.", maxLength: 316)),
            ("status", .string("status of the condition, one of True, False, Unknown.", enum: ["True", "False", "Unknown"])),
            (
                "observedGeneration",
                .integer("observedGeneration represents the .metadata.generation that the condition was set based upon.", minimum: 0)
            ),
            (
                "lastTransitionTime",
                .string("lastTransitionTime is the last time the condition transitioned from one status to another.", format: "date-time")
            ),
            (
                "reason",
                .string(
                    "reason contains a programmatic identifier indicating the reason for the condition's last transition.",
                    pattern: Schema.Pattern("^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$", matches: { Condition.isValidReason($0) }),
                    minLength: 1, maxLength: 1024)
            ),
            (
                "message",
                .string(
                    "message is a human readable message indicating details about the transition. This may be an empty string.",
                    maxLength: 32768)
            ),
        ],
        required: ["type", "status", "lastTransitionTime", "reason", "message"]
    )

    /// Semantic checks beyond the schema: qualified-name types and no duplicate types in one list.
    public static func validate(_ conditions: [Condition], at path: FieldPath) -> [FieldError] {
        var errors: [FieldError] = []
        var seen = Set<String>()
        for (i, condition) in conditions.enumerated() {
            let typePath = path.index(i).child("type")
            for message in NameValidation.qualifiedNameErrors(condition.type) {
                errors.append(FieldError(.invalid, typePath.description, .string(condition.type), message))
            }
            if !seen.insert(condition.type).inserted {
                errors.append(FieldError(.duplicate, typePath.description, .string(condition.type)))
            }
        }
        return errors
    }
}
