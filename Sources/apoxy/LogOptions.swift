import ApoxyServer
import ArgumentParser
import Logging

/// `--log-level` and `--log-format`, shared by `server`, `dev` and `backplane`.
struct LogOptions: ParsableArguments {
    /// Text for people, JSON lines for log pipelines.
    enum Format: String, ExpressibleByArgument, CaseIterable {
        case text, json
    }

    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical. Each request is logged at info.")
    var logLevel = "info"

    @Option(help: "Log format: text, or json (one JSON object per line, as klog's JSON format).")
    var logFormat: Format = .text

    func validate() throws {
        guard Logger.Level(rawValue: logLevel) != nil else {
            throw ValidationError("--log-level must be one of trace, debug, info, notice, warning, error, critical")
        }
    }

    /// The process's logger.
    var logger: Logger {
        var logger =
            switch logFormat {
            case .text: Logger(label: "apoxy")
            case .json: Logger(label: "apoxy", factory: { JSONLogHandler(label: $0) })
            }
        logger.logLevel = Logger.Level(rawValue: logLevel) ?? .info
        return logger
    }
}
