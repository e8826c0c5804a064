#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

extension Backend {
    static let durationFields = ["dnsRefreshRate", "dnsMinRefreshRate", "hostTTL", "dnsQueryTimeout"]

    /// Canonicalises client input before schema validation: lower-cases `spec.protocol` and rewrites parseable
    /// durations in Go's canonical form (`60s` -> `1m0s`).
    public static func normalize(_ object: inout JSONValue) {
        guard var spec = object["spec"], case .object = spec else { return }
        if case .string(let p) = spec["protocol"] { spec["protocol"] = .string(p.lowercased()) }
        if var proxy = spec["dynamicProxy"], var cache = proxy["dnsCacheConfig"], case .object = cache {
            for field in durationFields {
                if case .string(let text) = cache[field], let duration = try? GoDuration(parsing: text) {
                    cache[field] = .string(duration.description)
                }
            }
            proxy["dnsCacheConfig"] = cache
            spec["dynamicProxy"] = proxy
        }
        object["spec"] = spec
    }

    /// The rules of backend-semantics.md that a schema cannot express.
    public func validate() -> [FieldError] {
        var errors: [FieldError] = []
        let specPath = FieldPath("spec")
        let endpointsPath = specPath.child("endpoints")
        if spec.dynamicProxy != nil {
            if spec.endpoints.count != 1 {
                errors.append(
                    FieldError(
                        .invalid, endpointsPath.description, .integer(Int64(spec.endpoints.count)),
                        "exactly one endpoint is required when dynamicProxy is set"))
            }
        } else if spec.endpoints.isEmpty {
            errors.append(FieldError(.required, endpointsPath.description, nil, "at least one endpoint is required"))
        }
        for (i, endpoint) in spec.endpoints.enumerated() {
            let path = endpointsPath.index(i)
            switch (endpoint.fqdn, endpoint.ip) {
            case (nil, nil):
                errors.append(FieldError(.required, path.description, nil, "exactly one of fqdn or ip must be set"))
            case (.some, .some):
                errors.append(
                    FieldError(.invalid, path.description, endpoint.json, "exactly one of fqdn or ip may be set, not both"))
            case (nil, .some(let ip)):
                switch IPAddress.parse(ip) {
                case nil:
                    errors.append(
                        FieldError(
                            .invalid, path.child("ip").description, .string(ip),
                            "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)"))
                case .some(let address) where address.isUnspecified:
                    errors.append(
                        FieldError(
                            .invalid, path.child("ip").description, .string(ip),
                            "must not be the unspecified address (0.0.0.0 or ::)"))
                default:
                    break
                }
            case (.some, nil):
                break  // pattern and length are schema rules
            }
        }
        if let cache = spec.dynamicProxy?.dnsCacheConfig {
            let cachePath = specPath.child("dynamicProxy").child("dnsCacheConfig")
            let durations: [(String, String?, GoDuration, Bool)] = [
                ("dnsRefreshRate", cache.dnsRefreshRate, .milliseconds(1), true),
                ("dnsMinRefreshRate", cache.dnsMinRefreshRate, .seconds(1), true),
                ("hostTTL", cache.hostTTL, GoDuration(nanoseconds: 0), false),
                ("dnsQueryTimeout", cache.dnsQueryTimeout, GoDuration(nanoseconds: 0), false),
            ]
            for (field, text, bound, inclusive) in durations {
                guard let text else { continue }
                let path = cachePath.child(field).description
                do {
                    let duration = try GoDuration(parsing: text)
                    if inclusive, duration < bound {
                        errors.append(FieldError(.invalid, path, .string(text), "must be at least \(bound)"))
                    } else if !inclusive, duration <= bound {
                        errors.append(FieldError(.invalid, path, .string(text), "must be greater than 0s"))
                    }
                } catch {
                    errors.append(FieldError(.invalid, path, .string(text), error.message))
                }
            }
        }
        errors.append(contentsOf: Condition.validate(status.conditions, at: FieldPath("status").child("conditions")))
        return errors
    }
}

/// A parsed IP literal.
public struct IPAddress: Sendable, Hashable {
    /// 4 bytes for IPv4, 16 for IPv6.
    public var bytes: [UInt8]

    /// Parses an IPv4 dotted quad or an IPv6 literal (no zone, no brackets), as Go's net.ParseIP does.
    public static func parse(_ text: String) -> IPAddress? {
        guard !text.isEmpty, text.utf8.count <= 45 else { return nil }
        // inet_pton reads a C string: anything but hex digits, '.' and ':' (a NUL above all) must not reach it.
        let allowed = text.utf8.allSatisfy { c in
            (c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x66) || (c >= 0x41 && c <= 0x46) || c == 0x2E || c == 0x3A
        }
        guard allowed else { return nil }
        if text.contains(":") {
            var storage = in6_addr()
            guard inet_pton(AF_INET6, text, &storage) == 1 else { return nil }
            return IPAddress(bytes: withUnsafeBytes(of: storage) { Array($0) })
        }
        var storage = in_addr()
        guard inet_pton(AF_INET, text, &storage) == 1 else { return nil }
        return IPAddress(bytes: withUnsafeBytes(of: storage) { Array($0) })
    }

    /// True for IPv4 (not IPv6).
    public var isIPv4: Bool { bytes.count == 4 }
    /// True for 0.0.0.0, :: and ::ffff:0.0.0.0 (Go's IsUnspecified).
    public var isUnspecified: Bool {
        if bytes.allSatisfy({ $0 == 0 }) { return true }
        let mappedPrefix: [UInt8] = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF]
        return bytes.count == 16 && Array(bytes.prefix(12)) == mappedPrefix && bytes.suffix(4).allSatisfy { $0 == 0 }
    }
}
