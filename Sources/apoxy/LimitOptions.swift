import ApoxyServer
import ArgumentParser

/// The server's load and connection limits, named and defaulted as kube-apiserver's.
struct LimitOptions: ParsableArguments {
    @Option(name: .customLong("max-requests-inflight"), help: "Non-mutating requests served at once (watches excluded); past it, 429.")
    var maxRequestsInflight = 400

    @Option(
        name: .customLong("max-mutating-requests-inflight"), help: "Creates, updates, patches and deletes served at once; past it, 429.")
    var maxMutatingRequestsInflight = 200

    @Option(name: .customLong("max-watches"), help: "Open watches at once; past it, 429.")
    var maxWatches = 10_000

    @Option(name: .customLong("request-timeout"), help: "A non-watch request running longer is cancelled and answered 504 (a duration).")
    var requestTimeout = "1m0s"

    @Option(name: .customLong("read-header-timeout"), help: "Time a client has to send a request's headers (a duration).")
    var readHeaderTimeout = "32s"

    @Option(name: .customLong("idle-timeout"), help: "An idle keep-alive connection is closed after this (a duration).")
    var idleTimeout = "1m30s"

    @Option(name: .customLong("max-header-bytes"), help: "The most header bytes one request may send.")
    var maxHeaderBytes = 1 << 20

    func validate() throws {
        for (value, flag) in [
            (maxRequestsInflight, "--max-requests-inflight"), (maxMutatingRequestsInflight, "--max-mutating-requests-inflight"),
            (maxWatches, "--max-watches"), (maxHeaderBytes, "--max-header-bytes"),
        ] where value < 1 {
            throw ValidationError("\(flag) must be at least 1")
        }
        _ = try limits()
    }

    func limits() throws -> ServerLimits {
        func positive(_ text: String, _ flag: String) throws -> Duration {
            let duration = try StorageOptions.duration(text, flag: flag)
            guard duration > .zero else { throw ValidationError("\(flag) must be more than 0") }
            return duration
        }
        return ServerLimits(
            maxRequestsInflight: maxRequestsInflight, maxMutatingRequestsInflight: maxMutatingRequestsInflight, maxWatches: maxWatches,
            requestTimeout: try positive(requestTimeout, "--request-timeout"),
            readHeaderTimeout: try positive(readHeaderTimeout, "--read-header-timeout"),
            idleTimeout: try positive(idleTimeout, "--idle-timeout"), maxHeaderBytes: maxHeaderBytes)
    }
}
