/// RFC 7386 JSON Merge Patch.
public enum JSONMergePatch {
    /// Applies `patch` to `target` as RFC 7386 section 2 defines: objects merge recursively, `null` deletes a
    /// member, and anything else (arrays included) replaces the target value whole.
    public static func apply(_ patch: JSONValue, to target: JSONValue) -> JSONValue {
        guard case .object(let patchMembers) = patch else { return patch }
        var result: JSONObject
        if case .object(let members) = target {
            result = members
        } else {
            result = [:]
        }
        for (key, patchValue) in patchMembers {
            if patchValue.isNull {
                result.removeValue(forKey: key)
            } else {
                // Take the member out so the nested merge owns it uniquely instead of copying it.
                let current = result.removeValue(forKey: key) ?? .null
                result[key] = apply(patchValue, to: current)
            }
        }
        return .object(result)
    }

    /// The merge patch that turns `original` into `modified` (nulls for removed keys; arrays replaced whole).
    ///
    /// Merge patches cannot express a member whose new value is `null` (RFC 7386 section 1): such a member in
    /// `modified` comes out as a deletion. Values are compared exactly, so `1` versus `1.0` counts as a change.
    public static func diff(from original: JSONValue, to modified: JSONValue) -> JSONValue {
        guard case .object(let old) = original, case .object(let new) = modified else { return modified }
        var patch = JSONObject()
        for key in old.keys where new[key] == nil {
            patch[key] = .null
        }
        for (key, newValue) in new {
            guard let oldValue = old[key] else {
                patch[key] = newValue
                continue
            }
            guard oldValue != newValue else { continue }
            if case .object = oldValue, case .object = newValue {
                patch[key] = diff(from: oldValue, to: newValue)
            } else {
                patch[key] = newValue
            }
        }
        return .object(patch)
    }
}
