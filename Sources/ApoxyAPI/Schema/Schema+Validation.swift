/// What one pass of a document through its schema produced.
public struct SchemaCheckResult: Sendable {
    /// The document with unknown members and `null`s for non-nullable members removed, and defaults applied.
    public var value: JSONValue
    /// Type, enum, pattern, range and required violations.
    public var errors: [FieldError]
    /// Paths of members the schema does not declare (pruned from `value`).
    public var unknownFields: [String]
}

extension Schema {
    /// Validates `value` against this schema, prunes unknown members and applies defaults, as kube-apiserver
    /// does for a structural custom-resource schema.
    /// With `applyDefaults` false, missing members stay missing (server-side apply computes ownership that way).
    public func check(_ value: JSONValue, at path: FieldPath = FieldPath(), applyDefaults: Bool = true) -> SchemaCheckResult {
        var errors: [FieldError] = []
        var unknown: [String] = []
        let pruned = walk(value, path, &errors, &unknown, applyDefaults)
        return SchemaCheckResult(value: pruned, errors: errors, unknownFields: unknown)
    }

    private func typeError(_ value: JSONValue, _ path: FieldPath) -> FieldError {
        FieldError(
            .typeInvalid, path.description, .string(value.typeName),
            "\(path.description.isEmpty ? "body" : path.description + " in body") must be of type \(kind.rawValue): \"\(value.typeName)\"")
    }

    private func inBody(_ path: FieldPath) -> String {
        path.description.isEmpty ? "body" : "\(path.description) in body"
    }

    private func walk(
        _ value: JSONValue, _ path: FieldPath, _ errors: inout [FieldError], _ unknown: inout [String], _ defaults: Bool
    ) -> JSONValue {
        switch kind {
        case .object: return walkObject(value, path, &errors, &unknown, defaults)
        case .array: return walkArray(value, path, &errors, &unknown, defaults)
        case .string: return checkString(value, path, &errors)
        case .integer: return checkInteger(value, path, &errors, &unknown, defaults)
        case .number:
            switch value {
            case .integer, .double: return value
            default:
                errors.append(typeError(value, path))
                return value
            }
        case .boolean:
            guard case .bool = value else {
                errors.append(typeError(value, path))
                return value
            }
            return value
        }
    }

    /// Members: declared ones checked (nulls dropped), maps' values checked, unknown ones pruned (or kept, or refused
    /// with a reason), then defaults and required members.
    private func walkObject(
        _ value: JSONValue, _ path: FieldPath, _ errors: inout [FieldError], _ unknown: inout [String], _ defaults: Bool
    ) -> JSONValue {
        guard case .object(let members) = value else {
            errors.append(typeError(value, path))
            return value
        }
        var result = JSONObject()
        result.reserveCapacity(members.count)
        for (name, member) in members {
            if let propertySchema = property(name) {
                if member.isNull { continue }  // kube drops nulls for non-nullable members before defaulting
                result[name] = propertySchema.walk(member, path.child(name), &errors, &unknown, defaults)
            } else if let valueSchema = additionalProperties {
                if member.isNull { continue }
                result[name] = valueSchema.walk(member, path.key(name), &errors, &unknown, defaults)
            } else if preservesUnknownFields {
                result[name] = member
            } else if let reason = unsupportedProperties[name] {
                if !member.isNull { errors.append(FieldError(.forbidden, path.child(name).description, nil, reason)) }
            } else {
                unknown.append(path.child(name).description)
            }
        }
        for (name, propertySchema) in properties where defaults && result[name] == nil {
            if let defaultValue = propertySchema.defaultValue {
                result[name] = propertySchema.walk(defaultValue, path.child(name), &errors, &unknown, defaults)
            }
        }
        for name in required where result[name] == nil {
            errors.append(FieldError(.required, path.child(name).description))
        }
        return .object(result)
    }

    /// Item counts, then each item.
    private func walkArray(
        _ value: JSONValue, _ path: FieldPath, _ errors: inout [FieldError], _ unknown: inout [String], _ defaults: Bool
    ) -> JSONValue {
        guard case .array(let elements) = value else {
            errors.append(typeError(value, path))
            return value
        }
        if let minItems, elements.count < minItems {
            errors.append(
                FieldError(
                    .invalid, path.description, .integer(Int64(elements.count)),
                    "\(inBody(path)) should have at least \(minItems) items"))
        }
        if let maxItems, elements.count > maxItems {
            errors.append(
                FieldError(.tooMany, path.description, .integer(Int64(elements.count)), "must have at most \(maxItems) items"))
        }
        guard let items else { return value }
        var result: [JSONValue] = []
        result.reserveCapacity(elements.count)
        for (i, element) in elements.enumerated() {
            result.append(items.walk(element, path.index(i), &errors, &unknown, defaults))
        }
        return .array(result)
    }

    /// Length, pattern, enum and date-time format.
    private func checkString(_ value: JSONValue, _ path: FieldPath, _ errors: inout [FieldError]) -> JSONValue {
        guard case .string(let string) = value else {
            errors.append(typeError(value, path))
            return value
        }
        if let maxLength, string.utf8.count > maxLength {
            errors.append(FieldError(.tooLong, path.description, value, "may not be more than \(maxLength) bytes"))
        } else if let minLength, string.utf8.count < minLength {
            errors.append(
                FieldError(.invalid, path.description, value, "\(inBody(path)) should be at least \(minLength) chars long"))
        } else if let pattern, !pattern.matches(string) {
            errors.append(FieldError(.invalid, path.description, value, "\(inBody(path)) should match '\(pattern.regex)'"))
        }
        if let enumValues, !enumValues.contains(string) {
            errors.append(
                FieldError(
                    .notSupported, path.description, value,
                    "supported values: " + enumValues.map { "\"\($0)\"" }.joined(separator: ", ")))
        }
        if format == "date-time", RFC3339.parse(string) == nil {
            errors.append(
                FieldError(.invalid, path.description, value, "\(inBody(path)) must be of type date-time"))
        }
        return value
    }

    /// Range; a whole double (`3.0`) is read as the integer.
    private func checkInteger(
        _ value: JSONValue, _ path: FieldPath, _ errors: inout [FieldError], _ unknown: inout [String], _ defaults: Bool
    ) -> JSONValue {
        guard case .integer(let integer) = value else {
            if case .double(let d) = value, let i = value.integerValue, Double(i) == d {
                return walk(.integer(i), path, &errors, &unknown, defaults)
            }
            errors.append(typeError(value, path))
            return value
        }
        if let minimum, integer < minimum {
            errors.append(
                FieldError(.invalid, path.description, value, "\(inBody(path)) should be greater than or equal to \(minimum)"))
        }
        if let maximum, integer > maximum {
            errors.append(
                FieldError(.invalid, path.description, value, "\(inBody(path)) should be less than or equal to \(maximum)"))
        }
        return value
    }
}
