import EnvoyAPI
import GRPCCore
import Logging
import SwiftProtobuf
import Synchronization

/// `envoy.service.discovery.v3.AggregatedDiscoveryService`, state of the world: each stream gets every resource of
/// a type whenever the snapshot changes, and its ACKs and NACKs are recorded per node.
public struct AggregatedDiscoveryService: RegistrableRPCService {
    static let method = MethodDescriptor(
        fullyQualifiedService: "envoy.service.discovery.v3.AggregatedDiscoveryService",
        method: "StreamAggregatedResources")

    let snapshots: SnapshotStore
    let tracker: ProxyTracker
    let metrics: XDSMetrics?
    let logger: Logger

    /// Creates the service over a snapshot store and a tracker.
    public init(snapshots: SnapshotStore, tracker: ProxyTracker, metrics: XDSMetrics? = nil, logger: Logger) {
        self.snapshots = snapshots
        self.tracker = tracker
        self.metrics = metrics
        self.logger = logger
    }

    public func registerMethods<Transport: ServerTransport>(with router: inout RPCRouter<Transport>) {
        router.registerHandler(
            forMethod: Self.method,
            deserializer: ProtobufDeserializer<Envoy_Service_Discovery_V3_DiscoveryRequest>(),
            serializer: ProtobufSerializer<Envoy_Service_Discovery_V3_DiscoveryResponse>()
        ) { request, _ in
            StreamingServerResponse { writer in
                try await stream(requests: request.messages, writer: writer)
                return [:]
            }
        }
    }

    enum Event: Sendable {
        case request(Envoy_Service_Discovery_V3_DiscoveryRequest)
        /// A newer snapshot exists; at most one is queued per stream, so a slow or stopped Envoy holds one token, not
        /// every snapshot published meanwhile (latest wins when it is read).
        case snapshotChanged
        case requestsEnded
    }

    private func record(_ outcome: StreamSession.Outcome, _ metrics: XDSMetrics) {
        switch outcome {
        case .acknowledged(let type, let version):
            if let started = snapshots.startedAt(version: version) { metrics.acknowledged(type, after: .now - started) }
        case .rejected(let type):
            metrics.rejected(type)
        }
    }

    /// One ADS stream: requests from Envoy and new snapshots, merged into one ordered sequence of events.
    func stream(
        requests: RPCAsyncSequence<Envoy_Service_Discovery_V3_DiscoveryRequest, any Error>,
        writer: RPCWriter<Envoy_Service_Discovery_V3_DiscoveryResponse>
    ) async throws {
        let (events, sink) = AsyncStream.makeStream(of: Event.self)
        let snapshotQueued = QueuedFlag()
        func send(_ response: Envoy_Service_Discovery_V3_DiscoveryResponse) async throws {
            try await writer.write(response)
            if let type = XDSType(rawValue: response.typeURL) { metrics?.pushed(type) }
        }
        var session = StreamSession(logger: logger)
        defer {
            if let node = session.node { tracker.streamClosed(node: node) }
        }
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                defer { sink.yield(.requestsEnded) }
                for try await request in requests { sink.yield(.request(request)) }
            }
            group.addTask {
                for await _ in snapshots.updates() {
                    if snapshotQueued.raise() {
                        sink.yield(.snapshotChanged)
                    }
                }
            }
            for await event in events {
                switch event {
                case .requestsEnded:
                    group.cancelAll()
                    return
                case .snapshotChanged:
                    snapshotQueued.lower()
                    session.snapshot = snapshots.current
                    for response in session.pushes() { try await send(response) }
                case .request(let request):
                    let (opened, responses) = session.handle(request, tracker: tracker)
                    if let opened { tracker.streamOpened(node: opened) }
                    if let metrics, let outcome = session.lastOutcome { record(outcome, metrics) }
                    for response in responses { try await send(response) }
                }
            }
        }
    }
}

/// Whether a token is queued: raised by the producer (true when it was down, so it queues one), lowered by the consumer.
final class QueuedFlag: Sendable {
    private let raised = Mutex(false)

    func raise() -> Bool { raised.withLock { raised in defer { raised = true }; return !raised } }
    func lower() { raised.withLock { $0 = false } }
}

/// The state of one ADS stream: what Envoy subscribed to and what it was last sent, per type.
struct StreamSession {
    struct Subscription {
        /// Requested names (RDS); nil for wildcard types.
        var names: Set<String>?
        var sentVersion: String?
        var sentNonce: String?
    }

    let logger: Logger
    var node: String?
    var snapshot: Snapshot = .empty
    var subscriptions: [XDSType: Subscription] = [:]
    var nonceCounter = 0
    /// What the last request answered, for metrics: an ACK of a version, or a NACK.
    var lastOutcome: Outcome?

    enum Outcome: Equatable {
        case acknowledged(XDSType, version: String)
        case rejected(XDSType)
    }

    init(logger: Logger) { self.logger = logger }

    /// Handles one request; returns the node id if this request identified the stream, and responses to send.
    mutating func handle(
        _ request: Envoy_Service_Discovery_V3_DiscoveryRequest, tracker: ProxyTracker
    ) -> (opened: String?, responses: [Envoy_Service_Discovery_V3_DiscoveryResponse]) {
        var opened: String?
        lastOutcome = nil
        if node == nil, request.hasNode {
            node = request.node.id
            opened = request.node.id
        }
        guard let type = XDSType(rawValue: request.typeURL) else {
            logger.debug("ignoring request for unserved type", metadata: ["type": "\(request.typeURL)"])
            return (opened, [])
        }
        var subscription = subscriptions[type] ?? Subscription()
        logger.debug(
            "xDS request",
            metadata: [
                "node": "\(node ?? "")", "type": "\(type.shortName)", "version": "\(request.versionInfo)",
                "nonce": "\(request.responseNonce)", "sent_nonce": "\(subscription.sentNonce ?? "")",
                "error": "\(request.hasErrorDetail ? request.errorDetail.message : "")",
            ])
        // A response to anything but our latest push is stale: Envoy will answer that push too.
        if !request.responseNonce.isEmpty, request.responseNonce != subscription.sentNonce {
            return (opened, [])
        }
        let nodeID = node ?? "unknown"
        if !request.responseNonce.isEmpty {
            if request.hasErrorDetail {
                logger.warning(
                    "Envoy rejected configuration",
                    metadata: [
                        "node": "\(nodeID)", "type": "\(type.shortName)", "version": "\(subscription.sentVersion ?? "")",
                        "error": "\(request.errorDetail.message)",
                    ])
                tracker.rejected(
                    node: nodeID, type: type, version: subscription.sentVersion ?? "", message: request.errorDetail.message)
                lastOutcome = .rejected(type)
            } else {
                tracker.acknowledged(node: nodeID, type: type, version: request.versionInfo)
                lastOutcome = .acknowledged(type, version: request.versionInfo)
            }
        }
        let names = type.isWildcard ? nil : Set(request.resourceNames)
        let namesChanged = subscriptions[type] != nil && subscription.names != names
        let isNew = subscriptions[type] == nil || request.responseNonce.isEmpty
        subscription.names = names
        subscriptions[type] = subscription
        guard isNew || namesChanged || subscription.sentVersion != snapshot.version else { return (opened, []) }
        // A NACK of the current version is not answered with the same version again.
        if request.hasErrorDetail, subscription.sentVersion == snapshot.version { return (opened, []) }
        return (opened, [response(for: type)])
    }

    /// Responses for every subscribed type whose last push is older than the snapshot, clusters first.
    mutating func pushes() -> [Envoy_Service_Discovery_V3_DiscoveryResponse] {
        subscriptions.keys.sorted().compactMap { type in
            subscriptions[type]?.sentVersion == snapshot.version ? nil : response(for: type)
        }
    }

    mutating func response(for type: XDSType) -> Envoy_Service_Discovery_V3_DiscoveryResponse {
        nonceCounter += 1
        let all = snapshot.resources[type] ?? [:]
        let names = subscriptions[type]?.names
        var response = Envoy_Service_Discovery_V3_DiscoveryResponse()
        response.versionInfo = snapshot.version
        response.typeURL = type.rawValue
        response.nonce = String(nonceCounter)
        response.resources = all.keys.sorted().filter { names?.contains($0) ?? true }.map { all[$0]! }
        subscriptions[type, default: Subscription()].sentVersion = snapshot.version
        subscriptions[type, default: Subscription()].sentNonce = response.nonce
        return response
    }
}

/// SwiftProtobuf messages to gRPC bytes.
struct ProtobufSerializer<Message: SwiftProtobuf.Message>: MessageSerializer {
    func serialize<Bytes: GRPCContiguousBytes>(_ message: Message) throws -> Bytes {
        let bytes: [UInt8] = try message.serializedBytes()
        return Bytes(bytes)
    }
}

/// gRPC bytes to SwiftProtobuf messages.
struct ProtobufDeserializer<Message: SwiftProtobuf.Message>: MessageDeserializer {
    func deserialize<Bytes: GRPCContiguousBytes>(_ serializedMessageBytes: Bytes) throws -> Message {
        let bytes = serializedMessageBytes.withUnsafeBytes { Array($0) }
        return try Message(serializedBytes: bytes)
    }
}
