import ApoxyStorage
import EtcdAPI
import GRPCCore
import GRPCNIOTransportHTTP2Posix
import Logging
import SwiftProtobuf

/// The etcd v3 RPCs this storage uses (etcd's `api/etcdserverpb/rpc.proto`).
enum EtcdMethods {
    static let range = MethodDescriptor(fullyQualifiedService: "etcdserverpb.KV", method: "Range")
    static let txn = MethodDescriptor(fullyQualifiedService: "etcdserverpb.KV", method: "Txn")
    static let compact = MethodDescriptor(fullyQualifiedService: "etcdserverpb.KV", method: "Compact")
    static let watch = MethodDescriptor(fullyQualifiedService: "etcdserverpb.Watch", method: "Watch")
    static let status = MethodDescriptor(fullyQualifiedService: "etcdserverpb.Maintenance", method: "Status")
}

enum EtcdTransport {
    /// The watch streams' HTTP/2 transport to the configured members (request/response calls use EtcdUnaryClient),
    /// round-robin over the members it is connected to: a member that dies drops out of the rotation at once and
    /// rejoins once reconnected.
    static func make(_ configuration: EtcdConfiguration) throws -> HTTP2ClientTransport.Posix {
        let endpoints = configuration.endpoints
        let target: any ResolvableTarget
        if endpoints.allSatisfy({ $0.host.contains(":") }) {
            target = .ipv6(pairs: endpoints.map { ($0.host, $0.port) })
        } else if endpoints.count == 1 {
            target = .dns(host: endpoints[0].host, port: endpoints[0].port)
        } else {
            target = .ipv4(pairs: endpoints.map { ($0.host == "localhost" ? "127.0.0.1" : $0.host, $0.port) })
        }
        var config = HTTP2ClientTransport.Posix.Config.defaults
        config.backoff = .init(initial: .milliseconds(100), max: .seconds(2), multiplier: 1.6, jitter: 0.2)
        config.connection.keepalive = .init(time: .seconds(10), timeout: .seconds(3), allowWithoutCalls: true)
        let security: HTTP2ClientTransport.Posix.TransportSecurity
        if endpoints.first?.secure == true {
            let tls = configuration.tls
            security = .tls { config in
                if let caFile = tls.caFile { config.trustRoots = .certificates([.file(path: caFile, format: .pem)]) }
                if let certFile = tls.certFile, let keyFile = tls.keyFile {
                    config.certificateChain = [.file(path: certFile, format: .pem)]
                    config.privateKey = .file(path: keyFile, format: .pem)
                }
            }
        } else {
            security = .plaintext
        }
        return try HTTP2ClientTransport.Posix(
            target: target, transportSecurity: security, config: config, serviceConfig: ServiceConfig(loadBalancingConfig: [.roundRobin]))
    }
}

extension EtcdStorage {
    /// One request/response RPC on the unary client, its failures as `StorageError`s.
    func call<Request: SwiftProtobuf.Message & Sendable, Response: SwiftProtobuf.Message & Sendable>(
        _ method: MethodDescriptor, _ request: Request, key: String
    ) async throws -> Response {
        do {
            return try await unaryClient.call(method.fullyQualifiedMethod, request, timeout: configuration.requestTimeout)
        } catch let error as RPCError {
            throw Self.storageError(error, key: key)
        }
    }

    /// etcd's errors (`api/v3rpc/rpctypes`) in storage terms; everything else means etcd cannot serve now.
    static func storageError(_ error: RPCError, key: String) -> StorageError {
        let message = error.message
        if error.code == .outOfRange, message.contains("compacted") {
            return StorageError(.compacted(oldest: 0), key: key, message: message)
        }
        if error.code == .outOfRange, message.contains("future revision") {
            return StorageError(.futureRevision(current: 0), key: key, message: message)
        }
        return StorageError(.unavailable, key: key, message: "etcd: \(error.code): \(message)")
    }
}
