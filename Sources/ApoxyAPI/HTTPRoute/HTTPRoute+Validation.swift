extension HTTPRoute {
    /// Canonicalises client input before schema validation: rewrites parseable `timeouts.request` durations in Go's
    /// canonical form (`90s` -> `1m30s`), as Backend does for its durations, so equal timeouts compare equal.
    public static func normalize(_ object: inout JSONValue) {
        guard var spec = object["spec"], case .array(var rules) = spec["rules"] else { return }
        for i in rules.indices {
            guard var timeouts = rules[i]["timeouts"], case .string(let text) = timeouts["request"],
                let duration = try? GoDuration(parsing: text)
            else { continue }
            timeouts["request"] = .string(duration.description)
            rules[i]["timeouts"] = timeouts
        }
        spec["rules"] = .array(rules)
        object["spec"] = spec
    }

    /// The rules of the HTTPRoute subset that a schema cannot express.
    public func validate() -> [FieldError] {
        var errors: [FieldError] = []
        let specPath = FieldPath("spec")
        var seenHostnames = Set<String>()
        for (i, hostname) in spec.hostnames.enumerated() {
            let path = specPath.child("hostnames").index(i).description
            // An IPv4 literal matches the DNS pattern; Gateway API forbids IPs (IPv6 never matches the pattern).
            if IPAddress.parse(hostname) != nil {
                errors.append(FieldError(.invalid, path, .string(hostname), "must be a DNS name, not an IP address"))
            }
            if !seenHostnames.insert(hostname).inserted {
                errors.append(FieldError(.duplicate, path, .string(hostname)))
            }
        }
        for (r, rule) in spec.rules.enumerated() {
            let rulePath = specPath.child("rules").index(r)
            for (m, match) in rule.matches.enumerated() {
                errors += Self.validate(match, at: rulePath.child("matches").index(m))
            }
            for (b, ref) in rule.backendRefs.enumerated() {
                let namePath = rulePath.child("backendRefs").index(b).child("name").description
                for message in NameValidation.dns1123SubdomainErrors(ref.name) {
                    errors.append(FieldError(.invalid, namePath, .string(ref.name), message))
                }
            }
            if let request = rule.timeouts?.request {
                let path = rulePath.child("timeouts").child("request").description
                do {
                    let duration = try GoDuration(parsing: request)
                    if duration != GoDuration(nanoseconds: 0), duration < .milliseconds(1) {
                        errors.append(FieldError(.invalid, path, .string(request), "must be at least 1ms, or 0s for no timeout"))
                    }
                } catch {
                    errors.append(FieldError(.invalid, path, .string(request), error.message))
                }
            }
        }
        errors += validateStatus()
        return errors
    }

    static func validate(_ match: HTTPRouteMatch, at path: FieldPath) -> [FieldError] {
        var errors: [FieldError] = []
        let value = match.path.value
        let valuePath = path.child("path").child("value").description
        if !value.hasPrefix("/") {
            errors.append(FieldError(.invalid, valuePath, .string(value), "must be an absolute path starting with \"/\""))
        }
        if value.unicodeScalars.contains(where: { $0.properties.isWhitespace || $0.value < 0x20 || $0.value == 0x7F }) {
            errors.append(FieldError(.invalid, valuePath, .string(value), "must not contain whitespace or control characters"))
        }
        // Header names are case-insensitive, so `X-Env` and `x-env` in one match would contradict or repeat.
        var seen = Set<String>()
        for (h, header) in match.headers.enumerated() where !seen.insert(header.name.lowercased()).inserted {
            errors.append(FieldError(.duplicate, path.child("headers").index(h).child("name").description, .string(header.name)))
        }
        return errors
    }

    func validateStatus() -> [FieldError] {
        var errors: [FieldError] = []
        let parentsPath = FieldPath("status").child("parents")
        var seen = Set<ParentKey>()
        for (i, parent) in status.parents.enumerated() {
            let path = parentsPath.index(i)
            let controllerPath = path.child("controllerName").description
            if !Self.isDomainPrefixedPath(parent.controllerName) {
                errors.append(
                    FieldError(
                        .invalid, controllerPath, .string(parent.controllerName),
                        "must be a domain-prefixed path (e.g. apoxy.dev/backplane)"))
            }
            if !seen.insert(ParentKey(parentRef: parent.parentRef, controllerName: parent.controllerName)).inserted {
                errors.append(FieldError(.duplicate, path.description, parent.parentRef.json))
            }
            errors += Condition.validate(parent.conditions, at: path.child("conditions"))
        }
        return errors
    }

    /// One status entry per parent and controller, as Gateway API implementations keep it.
    struct ParentKey: Hashable {
        var parentRef: ParentReference
        var controllerName: String
    }

    /// Gateway API's GatewayController: a DNS subdomain, `/`, and a non-empty path without whitespace.
    static func isDomainPrefixedPath(_ text: String) -> Bool {
        guard let slash = text.firstIndex(of: "/") else { return false }
        let domain = String(text[..<slash])
        let rest = text[text.index(after: slash)...]
        return NameValidation.dns1123SubdomainErrors(domain).isEmpty && !rest.isEmpty
            && !rest.unicodeScalars.contains { $0.properties.isWhitespace || $0.value < 0x20 }
    }
}
