extension Schema {
    /// This schema as an OpenAPI schema object. Members with a `componentName` become `$ref`s to
    /// `refPrefix + componentName` (wrapped in `allOf` where a description or default must stay beside them, as
    /// kube publishes `metadata`); `collect` receives each referenced component once.
    public func openAPI(refPrefix: String, inlineRoot: Bool = true, collect: inout [String: Schema]) -> JSONValue {
        if !inlineRoot, let componentName {
            collect[componentName] = self
            return .object(["$ref": .string(refPrefix + componentName)])
        }
        var m: JSONObject = ["type": .string(kind.rawValue)]
        if let description { m["description"] = .string(description) }
        if !properties.isEmpty {
            var props = JSONObject()
            for (name, schema) in properties {
                if let component = schema.componentName {
                    collect[component] = schema
                    var wrapper: JSONObject = ["allOf": [["$ref": .string(refPrefix + component)]]]
                    if let defaultValue = schema.defaultValue { wrapper["default"] = defaultValue }
                    props[name] = .object(wrapper)
                } else {
                    props[name] = schema.openAPI(refPrefix: refPrefix, collect: &collect)
                }
            }
            m["properties"] = .object(props)
        }
        if !required.isEmpty { m["required"] = .array(required.map { .string($0) }) }
        if let items { m["items"] = items.openAPI(refPrefix: refPrefix, inlineRoot: false, collect: &collect) }
        if let additionalProperties {
            m["additionalProperties"] = additionalProperties.openAPI(refPrefix: refPrefix, inlineRoot: false, collect: &collect)
        }
        if let enumValues { m["enum"] = .array(enumValues.map { .string($0) }) }
        if let pattern { m["pattern"] = .string(pattern.regex) }
        if let format { m["format"] = .string(format) }
        if let minimum { m["minimum"] = .integer(minimum) }
        if let maximum { m["maximum"] = .integer(maximum) }
        if let minLength { m["minLength"] = .integer(Int64(minLength)) }
        if let maxLength { m["maxLength"] = .integer(Int64(maxLength)) }
        if let minItems { m["minItems"] = .integer(Int64(minItems)) }
        if let maxItems { m["maxItems"] = .integer(Int64(maxItems)) }
        if let defaultValue { m["default"] = defaultValue }
        if preservesUnknownFields {
            m["x-kubernetes-preserve-unknown-fields"] = true
            if kind == .array { m["items"] = ["type": "object", "x-kubernetes-preserve-unknown-fields": true] }
        }
        for (key, value) in extensions { m[key] = value }
        return .object(m)
    }
}
