import ApoxyAPI
import Foundation
public import Logging
import Synchronization

/// `--log-format json`: one JSON object per line on stderr, shaped like klog's JSON format (`ts` in seconds since
/// the epoch, `v` the verbosity for info and below, `msg`, then the metadata as keys; `err` for an `error` key), so
/// log pipelines built for Kubernetes components read it unchanged.
public struct JSONLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level = .info
    private let label: String
    private let output: Output

    /// Where lines go: one write per line under a lock, so concurrent lines never interleave.
    final class Output: Sendable {
        private let handle: Mutex<FileHandle>
        init(_ handle: FileHandle) { self.handle = Mutex(handle) }
        func write(_ line: [UInt8]) {
            let data = Data(line)
            handle.withLock { $0.write(data) }
        }
    }

    private static let standardError = Output(FileHandle.standardError)

    /// A handler writing to stderr.
    public init(label: String) {
        self.label = label
        self.output = Self.standardError
    }

    init(label: String, handle: FileHandle) {
        self.label = label
        self.output = Output(handle)
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        output.write(Self.line(event: event, handlerMetadata: metadata, label: label, now: Date()))
    }

    /// One line for `event` (newline included).
    static func line(event: LogEvent, handlerMetadata: Logger.Metadata, label: String, now: Date) -> [UInt8] {
        var object: JSONObject = [
            "ts": .double(now.timeIntervalSince1970), "msg": .string(event.message.description), "logger": .string(label),
        ]
        // klog prints errors without a verbosity and everything else as V(n); warnings keep a level so they can be found.
        switch event.level {
        case .trace: object["v"] = 6
        case .debug: object["v"] = 4
        case .info, .notice: object["v"] = 0
        case .warning: object["level"] = "warning"
        case .error, .critical: object["level"] = .string(event.level.rawValue)
        }
        var merged = handlerMetadata
        if let extra = event.metadata { merged.merge(extra) { $1 } }
        for (key, value) in merged {
            object[key == "error" ? "err" : key] = json(value)
        }
        var bytes = JSONValue.object(object).serialized()
        bytes.append(UInt8(ascii: "\n"))
        return bytes
    }

    static func json(_ value: Logger.Metadata.Value) -> JSONValue {
        switch value {
        case .string(let text): .string(text)
        case .stringConvertible(let convertible): .string(convertible.description)
        case .array(let values): .array(values.map(json))
        case .dictionary(let values): .object(values.mapValues(json))
        }
    }
}
