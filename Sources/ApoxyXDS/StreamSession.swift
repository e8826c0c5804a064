import EnvoyAPI
import HashTreeCollections
import Logging

/// The state of one state-of-the-world ADS stream: what Envoy subscribed to and what it was last sent, per type.
struct StreamSession: DiscoverySession {
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
    var lastOutcome: DiscoveryOutcome?

    init(logger: Logger) { self.logger = logger }

    /// Handles one request; returns the node id if this request identified the stream, and responses to send.
    mutating func handle(
        _ request: Envoy_Service_Discovery_V3_DiscoveryRequest, tracker: ProxyTracker
    ) -> (opened: String?, responses: [Envoy_Service_Discovery_V3_DiscoveryResponse]) {
        let opened = identify(request.hasNode ? request.node : nil)
        lastOutcome = nil
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
    mutating func pushes(tracker: ProxyTracker) -> [Envoy_Service_Discovery_V3_DiscoveryResponse] {
        subscriptions.keys.sorted().compactMap { type in
            subscriptions[type]?.sentVersion == snapshot.version ? nil : response(for: type)
        }
    }

    static func type(of response: Envoy_Service_Discovery_V3_DiscoveryResponse) -> XDSType? {
        XDSType(rawValue: response.typeURL)
    }

    mutating func response(for type: XDSType) -> Envoy_Service_Discovery_V3_DiscoveryResponse {
        nonceCounter += 1
        let all = snapshot[type]
        let names = subscriptions[type]?.names
        var response = Envoy_Service_Discovery_V3_DiscoveryResponse()
        response.versionInfo = snapshot.version
        response.typeURL = type.rawValue
        response.nonce = String(nonceCounter)
        response.resources = all.keys.sorted().filter { names?.contains($0) ?? true }.map { all[$0]!.body }
        subscriptions[type, default: Subscription()].sentVersion = snapshot.version
        subscriptions[type, default: Subscription()].sentNonce = response.nonce
        return response
    }
}
