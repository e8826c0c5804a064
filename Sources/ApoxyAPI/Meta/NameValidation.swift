/// Kubernetes name and label rules (k8s.io/apimachinery/pkg/util/validation), as plain functions.
public enum NameValidation {
    static func isLowerAlnum(_ c: UInt8) -> Bool { (c >= 0x61 && c <= 0x7A) || (c >= 0x30 && c <= 0x39) }
    static func isAlnum(_ c: UInt8) -> Bool { isLowerAlnum(c) || (c >= 0x41 && c <= 0x5A) }

    /// `[a-z0-9]([-a-z0-9]*[a-z0-9])?`
    public static func isDNS1123Label(_ s: Substring.UTF8View) -> Bool {
        guard let first = s.first, let last = s.last, isLowerAlnum(first), isLowerAlnum(last) else { return false }
        return s.allSatisfy { isLowerAlnum($0) || $0 == UInt8(ascii: "-") }
    }

    /// The DNS-1123 subdomain regex, as kube prints it.
    public static let dns1123SubdomainRegex = "[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*"

    /// Errors for a DNS-1123 subdomain (object names); empty when valid.
    public static func dns1123SubdomainErrors(_ name: String) -> [String] {
        var errors: [String] = []
        if name.utf8.count > 253 { errors.append("must be no more than 253 characters") }
        let labels = name.split(separator: ".", omittingEmptySubsequences: false)
        if name.isEmpty || !labels.allSatisfy({ isDNS1123Label($0.utf8) }) {
            errors.append(
                "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '\(dns1123SubdomainRegex)')"
            )
        }
        return errors
    }

    /// True for a valid FQDN endpoint: exactly the published pattern
    /// `^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9]))*$` (labels after the first have at least two
    /// characters), at most 253 bytes, every label at most 63.
    public static func isFQDN(_ name: String) -> Bool {
        guard !name.isEmpty, name.utf8.count <= 253 else { return false }
        let labels = name.split(separator: ".", omittingEmptySubsequences: false)
        return labels.enumerated().allSatisfy { i, label in
            label.utf8.count <= 63 && isDNS1123Label(label.utf8) && (i == 0 || label.utf8.count >= 2)
        }
    }

    /// `([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]`, at most 63 characters: the name part of a qualified name.
    static func isQualifiedNamePart(_ s: Substring.UTF8View) -> Bool {
        guard !s.isEmpty, s.count <= 63, let first = s.first, let last = s.last, isAlnum(first), isAlnum(last)
        else { return false }
        return s.allSatisfy { isAlnum($0) || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: ".") }
    }

    /// Errors for a qualified name (label keys, finalizers, condition types): `[prefix/]name`.
    public static func qualifiedNameErrors(_ value: String) -> [String] {
        let parts = value.split(separator: "/", omittingEmptySubsequences: false)
        let namePart: Substring
        switch parts.count {
        case 1:
            namePart = parts[0]
        case 2:
            let prefix = String(parts[0])
            if prefix.isEmpty {
                return ["prefix part must be non-empty"]
            }
            let prefixErrors = dns1123SubdomainErrors(prefix)
            if !prefixErrors.isEmpty { return prefixErrors.map { "prefix part " + $0 } }
            namePart = parts[1]
        default:
            return [
                "a qualified name must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')"
            ]
        }
        if namePart.isEmpty { return ["name part must be non-empty"] }
        if namePart.utf8.count > 63 { return ["name part must be no more than 63 characters"] }
        if !isQualifiedNamePart(namePart.utf8) {
            return [
                "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"
            ]
        }
        return []
    }

    /// Errors for a label value: empty, or a qualified name part of at most 63 characters.
    public static func labelValueErrors(_ value: String) -> [String] {
        if value.isEmpty { return [] }
        var errors: [String] = []
        if value.utf8.count > 63 { errors.append("must be no more than 63 characters") }
        let utf8 = Substring(value).utf8
        let matchesPattern =
            utf8.first.map(isAlnum) == true && utf8.last.map(isAlnum) == true
            && utf8.allSatisfy { isAlnum($0) || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: ".") }
        if !matchesPattern {
            errors.append(
                "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"
            )
        }
        return errors
    }
}
