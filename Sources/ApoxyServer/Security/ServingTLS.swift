import Crypto
import Foundation
public import Logging
import NIOCore
import NIOSSL
import SwiftASN1
import X509

/// The oldest TLS version the server accepts (kube-apiserver's `--tls-min-version`).
public enum TLSMinimumVersion: String, Sendable, CaseIterable {
    case tls12 = "VersionTLS12"
    case tls13 = "VersionTLS13"

    var nio: TLSVersion { self == .tls12 ? .tlsv12 : .tlsv13 }
}

/// How the server serves TLS: its certificate and key, and optionally the CA client certificates must chain to.
public struct ServingTLS: Sendable {
    /// PEM certificate chain (leaf first) presented to clients (`--tls-cert-file`).
    public var certificateFile: String
    /// PEM private key of the certificate (`--tls-private-key-file`).
    public var privateKeyFile: String
    /// PEM bundle of CAs that sign client certificates (`--client-ca-file`); nil asks for no client certificate.
    public var clientCAFile: String?
    /// `--tls-min-version`.
    public var minimumVersion: TLSMinimumVersion

    /// Creates a TLS setting.
    public init(certificateFile: String, privateKeyFile: String, clientCAFile: String? = nil, minimumVersion: TLSMinimumVersion = .tls12) {
        self.certificateFile = certificateFile
        self.privateKeyFile = privateKeyFile
        self.clientCAFile = clientCAFile
        self.minimumVersion = minimumVersion
    }

    /// The NIOSSL server configuration. A client certificate is asked for but optional (as kube-apiserver's
    /// `tls.RequestClientCert`): a presented one must chain to the client CA, a missing one leaves the other
    /// authenticators to decide.
    func tlsConfiguration() throws -> TLSConfiguration {
        let chain = try NIOSSLCertificate.fromPEMFile(certificateFile).map { NIOSSLCertificateSource.certificate($0) }
        let key = try NIOSSLPrivateKey(file: privateKeyFile, format: .pem)
        var configuration = TLSConfiguration.makeServerConfiguration(certificateChain: chain, privateKey: .privateKey(key))
        configuration.minimumTLSVersion = minimumVersion.nio
        if let clientCAFile {
            configuration.trustRoots = .file(clientCAFile)
            configuration.certificateVerification = .optionalVerification
            // Send the CA names in the CertificateRequest so clients with several certificates pick the right one.
            configuration.sendCANameList = true
        }
        return configuration
    }

    /// Whether `host` is a loopback address, where plain HTTP is allowed.
    public static func isLoopback(_ host: String) -> Bool {
        host == "localhost" || host == "::1" || host.hasPrefix("127.")
    }

    /// A self-signed serving certificate in `directory` (`apiserver.crt` / `apiserver.key`, as kube-apiserver
    /// writes into `--cert-dir`), made on first use and reused afterwards, valid for `localhost`, loopback and `host`.
    public static func selfSigned(in directory: String, host: String, logger: Logger) throws -> (certificate: String, key: String) {
        let certificatePath = (directory as NSString).appendingPathComponent("apiserver.crt")
        let keyPath = (directory as NSString).appendingPathComponent("apiserver.key")
        let files = FileManager.default
        if files.fileExists(atPath: certificatePath), files.fileExists(atPath: keyPath) {
            logger.notice("serving with the self-signed certificate generated earlier", metadata: ["certificate": "\(certificatePath)"])
            return (certificatePath, keyPath)
        }
        try files.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let key = P256.Signing.PrivateKey()
        let now = Date()
        let name = try DistinguishedName { CommonName("apoxy-apiserver@\(Int(now.timeIntervalSince1970))") }
        let names = subjectAlternativeNames(host: host)
        let certificate = try Certificate(
            version: .v3, serialNumber: Certificate.SerialNumber(), publicKey: .init(key.publicKey),
            notValidBefore: now - 60, notValidAfter: now + 365 * 24 * 3600, issuer: name, subject: name,
            signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.notCertificateAuthority)
                Critical(KeyUsage(digitalSignature: true, keyEncipherment: true))
                try ExtendedKeyUsage([.serverAuth])
                SubjectAlternativeNames(names)
            },
            issuerPrivateKey: .init(key))
        try Data(try certificate.serializeAsPEM().pemString.utf8).write(to: URL(fileURLWithPath: certificatePath), options: .atomic)
        // The key is readable by the owner only.
        _ = files.createFile(atPath: keyPath, contents: Data(key.pemRepresentation.utf8), attributes: [.posixPermissions: 0o600])
        logger.notice(
            "no --tls-cert-file given: generated a self-signed serving certificate",
            metadata: ["certificate": "\(certificatePath)", "key": "\(keyPath)"])
        return (certificatePath, keyPath)
    }

    /// `localhost`, 127.0.0.1 and `host` (as an IP address or a DNS name).
    static func subjectAlternativeNames(host: String) -> [GeneralName] {
        var names: [GeneralName] = [.dnsName("localhost"), .ipAddress(ASN1OctetString(contentBytes: [127, 0, 0, 1]))]
        if let address = try? SocketAddress(ipAddress: host, port: 0) {
            if case .v4(let v4) = address {
                withUnsafeBytes(of: v4.address.sin_addr) { names.append(.ipAddress(ASN1OctetString(contentBytes: ArraySlice($0)))) }
            } else if case .v6(let v6) = address {
                withUnsafeBytes(of: v6.address.sin6_addr) { names.append(.ipAddress(ASN1OctetString(contentBytes: ArraySlice($0)))) }
            }
        } else if host != "localhost" {
            names.append(.dnsName(host))
        }
        return names
    }
}
