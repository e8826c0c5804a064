import ArgumentParser

/// `--event-ttl`, shared by `server` and `dev` (the two commands that serve the API).
struct EventOptions: ParsableArguments {
    @Option(name: .customLong("event-ttl"), help: "How long an Event is kept after it was last seen (a duration; kube's --event-ttl).")
    var eventTTL = "1h0m0s"

    func validate() throws {
        _ = try ttl()
    }

    /// `--event-ttl` as a positive duration.
    func ttl() throws -> Duration {
        let ttl = try StorageOptions.duration(eventTTL, flag: "--event-ttl")
        guard ttl > .zero else { throw ValidationError("--event-ttl must be more than 0") }
        return ttl
    }
}
