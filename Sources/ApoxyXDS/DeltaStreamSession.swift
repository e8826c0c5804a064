import EnvoyAPI
import HashTreeCollections
import Logging

/// The state of one incremental (delta) ADS stream: per type, what Envoy subscribed to, which version of each
/// resource it holds, and the pushes it has not answered yet. A push carries only the resources whose version
/// differs from what Envoy holds, and the names it holds that no longer exist.
struct DeltaStreamSession: DiscoverySession {
    struct Subscription {
        /// Subscribed to every resource of the type (`*`, or an empty first subscription for CDS and LDS).
        var wildcard = false
        /// Names subscribed explicitly.
        var names: Set<String> = []
        /// The version of each resource Envoy holds: what it was sent, or reported on reconnect.
        var known: [String: String] = [:]
        /// Pushes not answered yet, by nonce: the snapshot version and the names they carried.
        var pending: [String: (version: String, names: [String])] = [:]
        /// The snapshot version `known` was last brought up to date with (nil: compare everything).
        var syncedVersion: String?
        /// Whether the last answer was a NACK; no version counts as applied until a push is ACKed again.
        var lastRejected = false
        /// A NACK forgot what a push carried: the next push compares every name, not just the changed ones.
        var resendPending = false
        /// Names to send with the next push even though Envoy holds their version: the load assignments of EDS
        /// clusters just sent again. Envoy warms a replaced cluster until its load assignment arrives, and its
        /// subscription did not change, so it does not ask (it would wait for the initial fetch timeout, 15 s).
        var resend: Set<String> = []
        /// Names newly subscribed to: compared with the snapshot on the next push besides the changed names, so a
        /// subscription to one more name costs that name, not a comparison of every resource.
        var recheck: Set<String> = []

        func wants(_ name: String) -> Bool { wildcard || names.contains(name) }
    }

    let logger: Logger
    var node: String?
    var snapshot: Snapshot = .empty
    var subscriptions: [XDSType: Subscription] = [:]
    var nonceCounter = 0
    var lastOutcome: DiscoveryOutcome?

    init(logger: Logger) { self.logger = logger }

    static func type(of response: Envoy_Service_Discovery_V3_DeltaDiscoveryResponse) -> XDSType? {
        XDSType(rawValue: response.typeURL)
    }

    mutating func handle(
        _ request: Envoy_Service_Discovery_V3_DeltaDiscoveryRequest, tracker: ProxyTracker
    ) -> (opened: String?, responses: [Envoy_Service_Discovery_V3_DeltaDiscoveryResponse]) {
        let opened = identify(request.hasNode ? request.node : nil)
        lastOutcome = nil
        guard let type = XDSType(rawValue: request.typeURL) else {
            logger.debug("ignoring delta request for unserved type", metadata: ["type": "\(request.typeURL)"])
            return (opened, [])
        }
        let isFirst = subscriptions[type] == nil
        var subscription = subscriptions[type] ?? Subscription()
        let nodeID = node ?? "unknown"
        logger.debug(
            "delta xDS request",
            metadata: [
                "node": "\(nodeID)", "type": "\(type.shortName)", "nonce": "\(request.responseNonce)",
                "subscribe": "\(request.resourceNamesSubscribe)", "unsubscribe": "\(request.resourceNamesUnsubscribe)",
                "error": "\(request.hasErrorDetail ? request.errorDetail.message : "")",
            ])

        // The answer to a push: an ACK means Envoy applied everything up to its version; a NACK means it refused
        // some of it, so what that push carried is no longer taken as held (it goes out again with the next push,
        // as state of the world would resend it).
        if !request.responseNonce.isEmpty, let answered = subscription.pending.removeValue(forKey: request.responseNonce) {
            if request.hasErrorDetail {
                logger.warning(
                    "Envoy rejected configuration",
                    metadata: [
                        "node": "\(nodeID)", "type": "\(type.shortName)", "version": "\(answered.version)",
                        "error": "\(request.errorDetail.message)",
                    ])
                for name in answered.names { subscription.known[name] = nil }
                // Those names are not among the next snapshot's changes: that push compares everything.
                subscription.resendPending = true
                subscription.lastRejected = true
                tracker.rejected(node: nodeID, type: type, version: answered.version, message: request.errorDetail.message)
                lastOutcome = .rejected(type)
            } else if subscription.resendPending {
                // A push sent before Envoy's NACK of an earlier one: Envoy still lacks what it rejected, so this ACK
                // says nothing about those resources. Send them again now (they will be refused again, and recorded).
                subscription.syncedVersion = nil
                subscriptions[type] = subscription
                return (opened, pushWithFollowers(type, always: false, tracker: tracker))
            } else {
                subscription.lastRejected = false
                tracker.acknowledged(node: nodeID, type: type, version: answered.version)
                lastOutcome = .acknowledged(type, version: answered.version)
            }
        }

        var subscriptionChanged = false
        var wildcardChanged = false
        if isFirst {
            let subscribe = request.resourceNamesSubscribe
            // CDS and LDS with no names subscribe to everything (legacy wildcard); `*` does for any type.
            subscription.wildcard = subscribe.contains("*") || (type.isWildcard && subscribe.isEmpty)
            subscription.names = Set(subscribe.filter { $0 != "*" })
            // Reconnecting: Envoy says what it holds, so only what differs is sent.
            subscription.known = request.initialResourceVersions
        } else {
            for name in request.resourceNamesSubscribe {
                if name == "*" {
                    wildcardChanged = wildcardChanged || !subscription.wildcard
                    subscriptionChanged = subscriptionChanged || !subscription.wildcard
                    subscription.wildcard = true
                } else if subscription.names.insert(name).inserted {
                    subscriptionChanged = true
                    // Subscribing again after an unsubscribe: Envoy dropped it, so it is sent again.
                    if !subscription.wildcard { subscription.known[name] = nil }
                    subscription.recheck.insert(name)
                }
            }
            for name in request.resourceNamesUnsubscribe {
                if name == "*" {
                    wildcardChanged = wildcardChanged || subscription.wildcard
                    subscription.wildcard = false
                } else {
                    subscription.names.remove(name)
                }
                subscriptionChanged = true
            }
            if !subscription.wildcard {
                // Envoy forgets what it unsubscribed from.
                for name in subscription.known.keys where !subscription.names.contains(name) {
                    subscription.known[name] = nil
                }
            }
        }
        // Names subscribed to one by one are rechecked alone; a first request or a change of wildcard compares all.
        if isFirst || wildcardChanged { subscription.syncedVersion = nil }
        subscriptions[type] = subscription
        // A first request is always answered, even with nothing, because Envoy waits for it to finish starting.
        guard isFirst || subscriptionChanged else { return (opened, []) }
        return (opened, pushWithFollowers(type, always: isFirst, tracker: tracker))
    }

    /// A push of `type`, followed by the load assignments it made due when it carried clusters.
    private mutating func pushWithFollowers(
        _ type: XDSType, always: Bool, tracker: ProxyTracker
    ) -> [Envoy_Service_Discovery_V3_DeltaDiscoveryResponse] {
        var responses = push(type, always: always, tracker: tracker).map { [$0] } ?? []
        if type == .cluster, let endpoints = push(.endpoint, always: false, tracker: tracker) { responses.append(endpoints) }
        return responses
    }

    mutating func pushes(tracker: ProxyTracker) -> [Envoy_Service_Discovery_V3_DeltaDiscoveryResponse] {
        subscriptions.keys.sorted().compactMap { push($0, always: false, tracker: tracker) }
    }

    /// The response that brings Envoy's copy of `type` to the snapshot, or nil when it already has it.
    mutating func push(
        _ type: XDSType, always: Bool, tracker: ProxyTracker
    ) -> Envoy_Service_Discovery_V3_DeltaDiscoveryResponse? {
        guard var subscription = subscriptions[type],
            subscription.syncedVersion != snapshot.version || !subscription.resend.isEmpty
                || !subscription.recheck.isEmpty
        else { return nil }
        let resources = snapshot[type]
        // Up to date, or one version behind (the usual case): only the names that changed can differ, since after
        // each push Envoy holds no name the snapshot lacks; otherwise (first push, reconnect, NACK) compare all.
        var changedSinceSync: Set<String>?
        if let synced = subscription.syncedVersion, !subscription.resendPending {
            if synced == snapshot.version {
                changedSinceSync = []
            } else if let changes = snapshot.changes, changes.since == synced {
                changedSinceSync = changes.names[type] ?? []
            }
        }
        var candidates = changedSinceSync ?? Set(resources.keys).union(subscription.known.keys)
        let resend = subscription.resend
        candidates.formUnion(resend)
        candidates.formUnion(subscription.recheck)
        subscription.resend = []
        subscription.recheck = []
        var updated: [Envoy_Service_Discovery_V3_Resource] = []
        var removed: [String] = []
        for name in candidates.sorted() {
            if let resource = resources[name], subscription.wants(name) {
                guard subscription.known[name] != resource.version || resend.contains(name) else { continue }
                var entry = Envoy_Service_Discovery_V3_Resource()
                entry.name = name
                entry.version = resource.version
                entry.resource = resource.body
                updated.append(entry)
                subscription.known[name] = resource.version
            } else if subscription.known.removeValue(forKey: name) != nil
                || (!subscription.wildcard && subscription.names.contains(name) && always)
            {
                // Held by Envoy and gone (or no longer wanted), or asked for on the first request and missing.
                removed.append(name)
            }
        }
        subscription.syncedVersion = snapshot.version
        subscription.resendPending = false
        defer { subscriptions[type] = subscription }
        if type == .cluster, !updated.isEmpty, var endpoints = subscriptions[.endpoint] {
            // Every EDS cluster sent is (re)created by Envoy and waits for its load assignment.
            for entry in updated where endpoints.wants(entry.name) && endpoints.known[entry.name] != nil {
                endpoints.resend.insert(entry.name)
            }
            subscriptions[.endpoint] = endpoints
        }
        if updated.isEmpty, removed.isEmpty, !always {
            // Nothing to send. If every push was applied, Envoy holds this version of the type already.
            if subscription.pending.isEmpty, !subscription.lastRejected, let node {
                tracker.acknowledged(node: node, type: type, version: snapshot.version)
            } else if !subscription.pending.isEmpty {
                // An answer to this (empty) push tells when Envoy has caught up with the pending ones.
                return response(type, version: snapshot.version, updated: [], removed: [], into: &subscription)
            }
            return nil
        }
        return response(type, version: snapshot.version, updated: updated, removed: removed, into: &subscription)
    }

    private mutating func response(
        _ type: XDSType, version: String, updated: [Envoy_Service_Discovery_V3_Resource], removed: [String],
        into subscription: inout Subscription
    ) -> Envoy_Service_Discovery_V3_DeltaDiscoveryResponse {
        nonceCounter += 1
        var response = Envoy_Service_Discovery_V3_DeltaDiscoveryResponse()
        response.systemVersionInfo = version
        response.typeURL = type.rawValue
        response.nonce = String(nonceCounter)
        response.resources = updated
        response.removedResources = removed
        subscription.pending[response.nonce] = (version, updated.map(\.name))
        return response
    }
}
