extension RBAC {
    /// kube's `ValidateRBACName` (`path.IsValidPathSegmentName`): RBAC names such as `system:public-info-viewer`
    /// are path segments, not DNS names.
    public static func nameErrors(_ name: String) -> [String] {
        if name == "." || name == ".." { return ["may not be '\(name)'"] }
        var errors: [String] = []
        for illegal in ["/", "%"] where name.contains(illegal) {
            errors.append("may not contain '\(illegal)'")
        }
        return errors
    }
}

extension PolicyRule {
    /// kube's `ValidatePolicyRule` for cluster-scoped rules.
    func validate(at path: FieldPath) -> [FieldError] {
        var errors: [FieldError] = []
        if verbs.isEmpty {
            errors.append(FieldError(.required, path.child("verbs").description, nil, "verbs must contain at least one value"))
        }
        if !nonResourceURLs.isEmpty {
            if !apiGroups.isEmpty || !resources.isEmpty || !resourceNames.isEmpty {
                errors.append(
                    FieldError(
                        .invalid, path.child("nonResourceURLs").description, .array(nonResourceURLs.map { .string($0) }),
                        "rules cannot apply to both regular resources and non-resource URLs"))
            }
            return errors
        }
        if apiGroups.isEmpty {
            errors.append(
                FieldError(.required, path.child("apiGroups").description, nil, "resource rules must supply at least one api group"))
        }
        if resources.isEmpty {
            errors.append(
                FieldError(.required, path.child("resources").description, nil, "resource rules must supply at least one resource"))
        }
        return errors
    }
}

extension ClusterRole {
    /// Semantic validation (kube's `ValidateClusterRole` without aggregation).
    public func validate() -> [FieldError] {
        rules.enumerated().flatMap { i, rule in rule.validate(at: FieldPath("rules").index(i)) }
    }
}

extension ClusterRoleBinding {
    /// Semantic validation (kube's `ValidateClusterRoleBinding`).
    public func validate() -> [FieldError] {
        var errors: [FieldError] = []
        if roleRef.apiGroup != RBAC.group {
            errors.append(FieldError(.notSupported, "roleRef.apiGroup", .string(roleRef.apiGroup), "supported values: \"\(RBAC.group)\""))
        }
        if roleRef.kind != "ClusterRole" {
            errors.append(FieldError(.notSupported, "roleRef.kind", .string(roleRef.kind), "supported values: \"ClusterRole\""))
        }
        if roleRef.name.isEmpty {
            errors.append(FieldError(.required, "roleRef.name", nil, ""))
        } else {
            for message in RBAC.nameErrors(roleRef.name) {
                errors.append(FieldError(.invalid, "roleRef.name", .string(roleRef.name), message))
            }
        }
        for (i, subject) in subjects.enumerated() {
            let path = FieldPath("subjects").index(i)
            if subject.name.isEmpty { errors.append(FieldError(.required, path.child("name").description, nil, "")) }
            switch subject.kind {
            case "ServiceAccount":
                if !subject.apiGroup.isEmpty {
                    errors.append(
                        FieldError(.notSupported, path.child("apiGroup").description, .string(subject.apiGroup), "supported values: \"\""))
                }
                if subject.namespace.isEmpty { errors.append(FieldError(.required, path.child("namespace").description, nil, "")) }
            case "User", "Group":
                if subject.apiGroup != RBAC.group {
                    errors.append(
                        FieldError(
                            .notSupported, path.child("apiGroup").description, .string(subject.apiGroup),
                            "supported values: \"\(RBAC.group)\""))
                }
            default:
                errors.append(
                    FieldError(
                        .notSupported, path.child("kind").description, .string(subject.kind),
                        "supported values: \"ServiceAccount\", \"User\", \"Group\""))
            }
        }
        return errors
    }

    /// kube refuses to re-point an existing binding at another role.
    public func validateUpdate(old: ClusterRoleBinding) -> [FieldError] {
        var errors = validate()
        if roleRef != old.roleRef {
            errors.append(
                FieldError(
                    .invalid, "roleRef",
                    ["apiGroup": .string(roleRef.apiGroup), "kind": .string(roleRef.kind), "name": .string(roleRef.name)],
                    "cannot change roleRef"))
        }
        return errors
    }
}
