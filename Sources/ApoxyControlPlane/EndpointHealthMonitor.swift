import ApoxyAPI
import ApoxyClient
import Logging

/// Where the backplane reads its Envoy's view of upstream hosts, and how often.
public struct EnvoyAdminEndpoint: Sendable {
    public var host: String
    public var port: Int
    /// Time between two reads of `/clusters` (longer when reads are slow). It also limits how often a host's health can
    /// change a Backend's status.
    public var interval: Duration

    /// Creates an endpoint.
    public init(host: String, port: Int, interval: Duration = .seconds(5)) {
        self.host = host
        self.port = port
        self.interval = interval
    }
}

/// Reads Envoy's `/clusters?format=json` at an interval and reports the upstream hosts of each cluster (the addresses
/// an FQDN resolved to, and their health) whenever they change. Nothing is reported while nothing changes.
struct EndpointHealthMonitor {
    let admin: EnvoyAdminEndpoint
    let logger: Logger

    /// Polls until cancelled; `changed` gets every cluster's hosts and the names of the clusters that changed.
    func run(_ changed: (_ observed: [String: [ObservedEndpoint]], _ clusters: Set<String>) -> Void) async {
        // Reads reuse one keep-alive connection to the admin port. `poll` throws nothing; `withClient` may rethrow.
        try? await PooledHTTPClient.withClient(host: admin.host, port: admin.port) { envoy in await poll(envoy, changed) }
    }

    private func poll(_ envoy: PooledHTTPClient, _ changed: ([String: [ObservedEndpoint]], Set<String>) -> Void) async {
        var last: [String: [ObservedEndpoint]] = [:]
        var reachable = true
        while !Task.isCancelled {
            let started = ContinuousClock.now
            do {
                let observed = try await read(envoy)
                reachable = true
                let names = Set(observed.keys).union(last.keys).filter { observed[$0] != last[$0] }
                if !names.isEmpty {
                    last = observed
                    changed(observed, names)
                }
            } catch {
                // Envoy may not be up yet, or restarting: said once, then tried again quietly.
                if reachable {
                    logger.info(
                        "cannot read Envoy's clusters; endpoint health is not updated",
                        metadata: ["admin": "\(admin.host):\(admin.port)", "error": "\(error)"])
                }
                reachable = false
            }
            // With many clusters one read costs real CPU on both sides (Envoy spent about 0.26 s per read at 10,000):
            // reads are spaced by at least 20 times what the last one took, so they stay under 5% of the time.
            try? await Task.sleep(for: max(admin.interval, (ContinuousClock.now - started) * 20))
        }
    }

    struct UnexpectedResponse: Error, CustomStringConvertible {
        var description: String
    }

    /// One read of every cluster's hosts.
    func read(_ envoy: PooledHTTPClient) async throws -> [String: [ObservedEndpoint]] {
        let response = try await envoy.request("GET", "/clusters?format=json", timeout: .seconds(30))
        guard response.status == 200 else {
            throw UnexpectedResponse(description: "GET /clusters answered \(response.status)")
        }
        return Self.observed(try JSONValue.parse(response.body).value)
    }

    /// The hosts of each cluster in Envoy's `/clusters?format=json` document.
    static func observed(_ document: JSONValue) -> [String: [ObservedEndpoint]] {
        var result: [String: [ObservedEndpoint]] = [:]
        for cluster in document["cluster_statuses"]?.arrayValue ?? [] {
            guard let name = cluster["name"]?.stringValue else { continue }
            result[name] = (cluster["host_statuses"]?.arrayValue ?? []).compactMap { endpoint(in: name, $0) }
                .sorted { ($0.address, $0.port, $0.hostname ?? "") < ($1.address, $1.port, $1.hostname ?? "") }
        }
        return result
    }

    /// Envoy's health flags that take a host out of load balancing as healthy, in the order they are reported.
    static let unhealthyFlags = [
        "failed_active_health_check", "failed_outlier_check", "excluded_via_immediate_hc_fail", "active_hc_timeout",
        "pending_active_hc",
    ]

    static func endpoint(in cluster: String, _ host: JSONValue) -> ObservedEndpoint? {
        let socket = host["address"]?["socket_address"]
        guard let address = socket?["address"]?.stringValue else { return nil }
        let port = socket?["port_value"]?.integerValue ?? 0
        let status = host["health_status"] ?? .object([:])
        let failed = Self.unhealthyFlags.filter { status[$0]?.boolValue == true }
        var reasons = failed
        let degraded = status["failed_active_degraded_check"]?.boolValue == true
        if degraded { reasons.append("failed_active_degraded_check") }
        if status["pending_dynamic_removal"]?.boolValue == true { reasons.append("pending_dynamic_removal") }
        let eds = status["eds_health_status"]?.stringValue ?? "HEALTHY"
        if eds != "HEALTHY", eds != "UNKNOWN" { reasons.append("eds_health_status: \(eds)") }
        let health: String
        if !failed.isEmpty || ["UNHEALTHY", "DRAINING", "TIMEOUT"].contains(eds) {
            health = "Unhealthy"
        } else if degraded || eds == "DEGRADED" {
            health = "Degraded"
        } else {
            health = "Healthy"
        }
        // STRICT_DNS hosts carry the name they were resolved from; an IP endpoint's "hostname" is its own address.
        let hostname = host["hostname"]?.stringValue.flatMap { $0.isEmpty || $0 == address ? nil : $0 }
        return ObservedEndpoint(cluster: cluster, address: address, port: port, hostname: hostname, health: health, reasons: reasons)
    }
}
