import EnvoyAPI
public import GRPCCore
public import Logging
import SwiftProtobuf
import Synchronization

/// `envoy.service.discovery.v3.AggregatedDiscoveryService`, both variants: state of the world
/// (`StreamAggregatedResources`: every resource of a type whenever the snapshot changes) and incremental
/// (`DeltaAggregatedResources`: only the resources that changed, and the names removed). ACKs and NACKs are recorded
/// per node either way.
public struct AggregatedDiscoveryService: RegistrableRPCService {
    static let method = MethodDescriptor(
        fullyQualifiedService: "envoy.service.discovery.v3.AggregatedDiscoveryService",
        method: "StreamAggregatedResources")
    static let deltaMethod = MethodDescriptor(
        fullyQualifiedService: "envoy.service.discovery.v3.AggregatedDiscoveryService",
        method: "DeltaAggregatedResources")

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
                try await stream(StreamSession(logger: logger), requests: request.messages, writer: writer)
                return [:]
            }
        }
        router.registerHandler(
            forMethod: Self.deltaMethod,
            deserializer: ProtobufDeserializer<Envoy_Service_Discovery_V3_DeltaDiscoveryRequest>(),
            serializer: ProtobufSerializer<Envoy_Service_Discovery_V3_DeltaDiscoveryResponse>()
        ) { request, _ in
            StreamingServerResponse { writer in
                try await stream(DeltaStreamSession(logger: logger), requests: request.messages, writer: writer)
                return [:]
            }
        }
    }

    enum Event<Request: Sendable>: Sendable {
        case request(Request)
        /// A newer snapshot exists; at most one is queued per stream, so a slow or stopped Envoy holds one token, not
        /// every snapshot published meanwhile (latest wins when it is read).
        case snapshotChanged
        case requestsEnded
    }

    private func record(_ outcome: DiscoveryOutcome, _ metrics: XDSMetrics) {
        switch outcome {
        case .acknowledged(let type, let version):
            if let started = snapshots.startedAt(version: version) { metrics.acknowledged(type, after: .now - started) }
        case .rejected(let type):
            metrics.rejected(type)
        }
    }

    /// One ADS stream: requests from Envoy and new snapshots, merged into one ordered sequence of events that the
    /// session (state of the world or delta) answers.
    func stream<Session: DiscoverySession>(
        _ initial: Session,
        requests: RPCAsyncSequence<Session.Request, any Error>,
        writer: RPCWriter<Session.Response>
    ) async throws {
        let (events, sink) = AsyncStream.makeStream(of: Event<Session.Request>.self)
        let snapshotQueued = QueuedFlag()
        func send(_ response: Session.Response) async throws {
            try await writer.write(response)
            if let type = Session.type(of: response) { metrics?.pushed(type) }
        }
        var session = initial
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
                    for response in session.pushes(tracker: tracker) { try await send(response) }
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

/// What one request from Envoy answered, for metrics: an ACK of a version, or a NACK.
enum DiscoveryOutcome: Equatable {
    case acknowledged(XDSType, version: String)
    case rejected(XDSType)
}

/// The state machine of one ADS stream, whichever variant: it answers Envoy's requests and turns new snapshots
/// into pushes, recording ACKs and NACKs in the tracker.
protocol DiscoverySession: Sendable {
    associatedtype Request: SwiftProtobuf.Message
    associatedtype Response: SwiftProtobuf.Message

    /// The node id, once a request named it.
    var node: String? { get set }
    /// The snapshot the session serves.
    var snapshot: Snapshot { get set }
    /// What the last handled request answered.
    var lastOutcome: DiscoveryOutcome? { get }
    /// Handles one request; returns the node id if this request identified the stream, and responses to send.
    mutating func handle(_ request: Request, tracker: ProxyTracker) -> (opened: String?, responses: [Response])
    /// Responses that bring Envoy to the current snapshot, clusters first.
    mutating func pushes(tracker: ProxyTracker) -> [Response]
    /// The type a response carries.
    static func type(of response: Response) -> XDSType?
}

extension DiscoverySession {
    /// Takes the node id from the first request that carries a node; returns it then (the stream is now that
    /// node's), and nil on every other request.
    mutating func identify(_ requestNode: Envoy_Config_Core_V3_Node?) -> String? {
        guard node == nil, let requestNode else { return nil }
        node = requestNode.id
        return requestNode.id
    }
}

/// Whether a token is queued: raised by the producer (true when it was down, so it queues one), lowered by the consumer.
final class QueuedFlag: Sendable {
    private let raised = Mutex(false)

    func raise() -> Bool {
        raised.withLock { raised in
            defer { raised = true }
            return !raised
        }
    }
    func lower() { raised.withLock { $0 = false } }
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
