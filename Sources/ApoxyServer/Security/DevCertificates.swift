public import ApoxyAPI
import Crypto
import Foundation
import NIOCore
import SwiftASN1
import X509

/// The certificates of a self-contained secure stack (`apoxy dev`): a CA, the API server's serving certificate, an
/// admin client certificate in `system:masters`, the control plane's client certificate, and for the ADS port a
/// serving certificate and Envoy's client certificate, as PEM files in one folder. Made once and reused, like
/// kube's `--cert-dir`; a serving certificate whose names no longer match its listen address is made again.
public struct DevCertificates: Sendable {
    /// The folder holding the files.
    public let directory: String

    /// User name of the control plane's certificate (bound to `apoxy:control-plane`).
    public static let controlPlaneUser = "system:apoxy:control-plane"
    /// User name of the admin certificate.
    public static let adminUser = "apoxy-admin"

    public var caCertificate: String { path("ca.crt") }
    public var servingCertificate: String { path("apiserver.crt") }
    public var servingKey: String { path("apiserver.key") }
    public var adminCertificate: String { path("admin.crt") }
    public var adminKey: String { path("admin.key") }
    public var controlPlaneCertificate: String { path("control-plane.crt") }
    public var controlPlaneKey: String { path("control-plane.key") }
    public var xdsServerCertificate: String { path("xds-server.crt") }
    public var xdsServerKey: String { path("xds-server.key") }
    public var envoyCertificate: String { path("envoy.crt") }
    public var envoyKey: String { path("envoy.key") }

    /// Common name of Envoy's client certificate on the ADS port.
    public static let envoyUser = "system:apoxy:envoy"

    func path(_ name: String) -> String { (directory as NSString).appendingPathComponent(name) }

    /// Loads the certificates in `directory`, making any that are missing (all of them when the CA is).
    public static func prepare(in directory: String, host: String, xdsHost: String = "127.0.0.1") throws -> DevCertificates {
        let certificates = DevCertificates(directory: directory)
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let files = FileManager.default
        let now = Date()
        let caKey: P256.Signing.PrivateKey
        let caName: DistinguishedName
        if files.fileExists(atPath: certificates.caCertificate), files.fileExists(atPath: certificates.path("ca.key")) {
            caKey = try P256.Signing.PrivateKey(pemRepresentation: String(contentsOfFile: certificates.path("ca.key"), encoding: .utf8))
            let pem = try String(contentsOfFile: certificates.caCertificate, encoding: .utf8)
            caName = try Certificate(pemEncoded: pem).subject
        } else {
            caKey = P256.Signing.PrivateKey()
            caName = try DistinguishedName { CommonName("apoxy-dev-ca@\(Int(now.timeIntervalSince1970))") }
            let ca = try Certificate(
                version: .v3, serialNumber: Certificate.SerialNumber(), publicKey: .init(caKey.publicKey),
                notValidBefore: now - 60, notValidAfter: now + 10 * 365 * 24 * 3600, issuer: caName, subject: caName,
                signatureAlgorithm: .ecdsaWithSHA256,
                extensions: try Certificate.Extensions {
                    Critical(BasicConstraints.isCertificateAuthority(maxPathLength: 0))
                    Critical(KeyUsage(keyCertSign: true, cRLSign: true))
                },
                issuerPrivateKey: .init(caKey))
            try write(try ca.serializeAsPEM().pemString, to: certificates.caCertificate, private: false)
            try write(caKey.pemRepresentation, to: certificates.path("ca.key"), private: true)
            for name in ["apiserver", "admin", "control-plane", "xds-server", "envoy"] {
                try? files.removeItem(atPath: certificates.path("\(name).crt"))
            }
        }
        func leaf(_ name: String, subject: DistinguishedName, serving host: String? = nil) throws {
            let server = host != nil
            let names = host.map { ServingTLS.subjectAlternativeNames(host: $0) } ?? []
            if let pem = try? String(contentsOfFile: certificates.path("\(name).crt"), encoding: .utf8) {
                let existing = try? Certificate(pemEncoded: pem)
                let existingNames: [GeneralName] = (try? existing?.extensions.subjectAlternativeNames).map { Array($0) } ?? []
                if existing != nil, existingNames == names { return }
            }
            let key = P256.Signing.PrivateKey()
            let certificate = try Certificate(
                version: .v3, serialNumber: Certificate.SerialNumber(), publicKey: .init(key.publicKey),
                notValidBefore: now - 60, notValidAfter: now + 365 * 24 * 3600, issuer: caName, subject: subject,
                signatureAlgorithm: .ecdsaWithSHA256,
                extensions: try Certificate.Extensions {
                    Critical(BasicConstraints.notCertificateAuthority)
                    Critical(KeyUsage(digitalSignature: true, keyEncipherment: true))
                    try ExtendedKeyUsage([server ? .serverAuth : .clientAuth])
                    if server { SubjectAlternativeNames(names) }
                },
                issuerPrivateKey: .init(caKey))
            try write(try certificate.serializeAsPEM().pemString, to: certificates.path("\(name).crt"), private: false)
            try write(key.pemRepresentation, to: certificates.path("\(name).key"), private: true)
        }
        try leaf("apiserver", subject: try DistinguishedName { CommonName("apoxy-apiserver") }, serving: host)
        try leaf(
            "admin",
            subject: try DistinguishedName {
                OrganizationName(UserInfo.mastersGroup)
                CommonName(adminUser)
            })
        try leaf("control-plane", subject: try DistinguishedName { CommonName(controlPlaneUser) })
        try leaf("xds-server", subject: try DistinguishedName { CommonName("apoxy-xds") }, serving: xdsHost)
        try leaf("envoy", subject: try DistinguishedName { CommonName(envoyUser) })
        return certificates
    }

    /// Replaces `path` with `text`, readable by the owner only when `private`.
    public static func write(_ text: String, to path: String, private isPrivate: Bool) throws {
        try? FileManager.default.removeItem(atPath: path)
        guard
            FileManager.default.createFile(
                atPath: path, contents: Data(text.utf8), attributes: [.posixPermissions: isPrivate ? 0o600 : 0o644])
        else { throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: path]) }
    }

    /// A kubeconfig for the admin (`system:masters`) with every file inline, so it works from anywhere.
    public func adminKubeconfig(server: String) throws -> String {
        func inline(_ path: String) throws -> String { Data(try String(contentsOfFile: path, encoding: .utf8).utf8).base64EncodedString() }
        return """
            apiVersion: v1
            kind: Config
            clusters:
            - name: apoxy-dev
              cluster:
                server: \(server)
                certificate-authority-data: \(try inline(caCertificate))
            users:
            - name: apoxy-admin
              user:
                client-certificate-data: \(try inline(adminCertificate))
                client-key-data: \(try inline(adminKey))
            contexts:
            - name: apoxy-dev
              context: {cluster: apoxy-dev, user: apoxy-admin}
            current-context: apoxy-dev

            """
    }

    /// What the control plane may do (least privilege): read Backends and HTTPRoutes, write only their status, and
    /// record Events about them (kube's event recorders have create, update and patch on events).
    public static let controlPlaneRole = ClusterRole(
        metadata: ObjectMeta(name: "apoxy:control-plane"),
        rules: [
            PolicyRule(verbs: ["get", "list", "watch"], apiGroups: ["core.apoxy.dev"], resources: ["backends"]),
            PolicyRule(verbs: ["get", "list", "watch"], apiGroups: ["gateway.apoxy.dev"], resources: ["httproutes"]),
            PolicyRule(verbs: ["get", "update", "patch"], apiGroups: ["core.apoxy.dev"], resources: ["backends/status"]),
            PolicyRule(verbs: ["get", "update", "patch"], apiGroups: ["gateway.apoxy.dev"], resources: ["httproutes/status"]),
            PolicyRule(verbs: ["create", "update", "patch"], apiGroups: ["", "events.k8s.io"], resources: ["events"]),
        ])

    /// Grants `controlPlaneRole` to the control plane's user.
    public static let controlPlaneBinding = ClusterRoleBinding(
        metadata: ObjectMeta(name: "apoxy:control-plane"), roleRef: RoleRef(name: "apoxy:control-plane"),
        subjects: [Subject(kind: "User", name: controlPlaneUser, apiGroup: RBAC.group)])
}
