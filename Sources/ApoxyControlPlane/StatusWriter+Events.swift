import ApoxyAPI
import ApoxyClient
import Logging

extension StatusWriter {
    /// The component Events name as their reporter.
    static let reportingComponent = "apoxy.dev/backplane"

    /// Events for the conditions of `wanted` whose status or reason differ from `stored` (kube controllers record
    /// an Event per transition). A move to `Unknown` (pending) is not one: every generation passes through it.
    /// Warnings for `False`, with the condition's message (Envoy's NACK text for a rejection).
    func transitionEvents(
        kind: String, apiVersion: String, object: JSONValue, wanted: [JSONValue], stored: [JSONValue], now: Int64
    ) -> [JSONValue] {
        var events: [JSONValue] = []
        for condition in wanted {
            let type = condition["type"]?.stringValue ?? ""
            let status = condition["status"]?.stringValue ?? ""
            let reason = condition["reason"]?.stringValue ?? ""
            let old = stored.first { $0["type"]?.stringValue == type }
            guard status != "Unknown", old?["status"]?.stringValue != status || old?["reason"]?.stringValue != reason else { continue }
            let name = object["metadata"]?["name"]?.stringValue ?? ""
            var involved: JSONObject = ["apiVersion": .string(apiVersion), "kind": .string(kind), "name": .string(name)]
            for member in ["uid", "resourceVersion"] {
                if let value = object["metadata"]?[member] { involved[member] = value }
            }
            let time = JSONValue.string(RFC3339.format(now))
            events.append([
                "apiVersion": "v1", "kind": "Event",
                // kube's recorder names an Event after its object and the time in nanoseconds, in hex.
                "metadata": [
                    "name": .string(
                        "\(name).\(String(UInt64(max(0, now)) * 1_000_000_000 + UInt64.random(in: 0..<1_000_000_000), radix: 16))"),
                    "namespace": .string(Namespace.default),
                ],
                "involvedObject": .object(involved),
                "reason": .string(reason.isEmpty ? type : reason),
                "message": .string(Self.limitedNote("\(type) is \(status): \(condition["message"]?.stringValue ?? "")")),
                "type": .string(status == "False" ? "Warning" : "Normal"),
                "source": ["component": .string(Self.reportingComponent), "host": .string(proxyName)],
                "reportingComponent": .string(Self.reportingComponent), "reportingInstance": .string(proxyName),
                "firstTimestamp": time, "lastTimestamp": time, "count": 1,
            ])
        }
        return events
    }

    /// A message cut to what kube keeps of an Event's note (1024 characters).
    static func limitedNote(_ message: String) -> String {
        message.count <= 1024 ? message : String(message.prefix(1000)) + "… (truncated)"
    }

    /// The most Events one status pass records. kube's recorders rate-limit too (a burst of 25 per object): a bulk
    /// create of thousands of Backends must not turn into thousands of Event writes ahead of the next pass.
    static let maxEventsPerPass = 256

    /// Creates the Events (at most `maxEventsPerPass`); a failure is logged, never retried (Events are best effort,
    /// as kube's recorder treats them).
    func record(_ events: [JSONValue]) async {
        if events.count > Self.maxEventsPerPass {
            logger.notice(
                "too many Events at once; recorded the first ones only",
                metadata: ["recorded": "\(Self.maxEventsPerPass)", "dropped": "\(events.count - Self.maxEventsPerPass)"])
        }
        for event in events.prefix(Self.maxEventsPerPass) {
            do {
                let response = try await api.request(
                    "POST", Event.descriptor.collectionPath(namespace: Namespace.default), contentType: "application/json",
                    body: event.serialized(), timeout: .seconds(10))
                if response.status != 201 {
                    logger.debug("event not recorded", metadata: ["status": "\(response.status)", "body": "\(response.text)"])
                }
            } catch {
                logger.debug("event not recorded", metadata: ["error": "\(error)"])
            }
        }
    }
}
