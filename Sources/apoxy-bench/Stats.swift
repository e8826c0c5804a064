import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Latency samples and derived figures for one measured step.
struct Measurement: Sendable {
    var name: String
    var operations: Int
    var seconds: Double
    var latenciesMicros: [Double]
    var note: String = ""
    /// CPU the load generator (this process) and the server used during the step, in cores (1.0 = one core busy).
    var cpu: StepCPU?

    /// `cpu` when the step lasted long enough to measure it: /proc counts CPU in 10 ms ticks, so steps shorter than
    /// a quarter second get no figure.
    var reportedCPU: StepCPU? { seconds >= 0.25 ? cpu : nil }

    var throughput: Double { seconds > 0 ? Double(operations) / seconds : 0 }

    func percentile(_ p: Double) -> Double {
        guard !latenciesMicros.isEmpty else { return 0 }
        let sorted = latenciesMicros.sorted()
        let index = min(sorted.count - 1, max(0, Int((p / 100 * Double(sorted.count)).rounded(.up)) - 1))
        return sorted[index]
    }

    var json: [String: Any] {
        var entry: [String: Any] = [
            "name": name, "operations": operations, "seconds": seconds, "throughput_per_s": throughput,
            "p50_ms": percentile(50) / 1000, "p99_ms": percentile(99) / 1000, "max_ms": (latenciesMicros.max() ?? 0) / 1000,
            "note": note, "generator_cores": reportedCPU?.generator ?? 0, "server_cores": reportedCPU?.server ?? 0,
        ]
        // Steps of the etcd section also say how busy etcd was.
        if let etcd = cpu?.storage { entry["etcd_cores"] = reportedCPU == nil ? 0 : etcd }
        return entry
    }
}

/// CPU time (user + system) this process has used, in seconds.
func processCPUSeconds() -> Double {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    return Double(usage.ru_utime.tv_sec) + Double(usage.ru_utime.tv_usec) / 1e6 + Double(usage.ru_stime.tv_sec)
        + Double(usage.ru_stime.tv_usec) / 1e6
}

/// CPU time (user + system) another process has used, in seconds (from /proc); 0 if it cannot be read.
func processCPUSeconds(pid: Int32) -> Double {
    guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
        let close = stat.lastIndex(of: ")")
    else { return 0 }
    // Fields after the command name: state is field 3, utime 14 and stime 15 (proc(5)).
    let fields = stat[stat.index(after: close)...].split(separator: " ")
    guard fields.count > 13, let user = Double(fields[11]), let system = Double(fields[12]) else { return 0 }
    return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
}

/// CPU use of the generator, the server and (in the etcd section) etcd over one step.
struct StepCPU: Sendable {
    var generator: Double
    var server: Double
    /// etcd's cores, when `storagePID` was set.
    var storage: Double?

    typealias Start = (generator: Double, server: Double, storage: Double, at: ContinuousClock.Instant)

    /// The server whose CPU steps report (set once it has started; nil for steps without a server).
    nonisolated(unsafe) static var serverPID: Int32?
    /// The storage process (etcd) whose CPU steps report, if any.
    nonisolated(unsafe) static var storagePID: Int32?

    /// Starts measuring; `finish` returns the cores used since.
    static func start() -> Start {
        (processCPUSeconds(), serverPID.map { processCPUSeconds(pid: $0) } ?? 0, storagePID.map { processCPUSeconds(pid: $0) } ?? 0, .now)
    }

    /// The cores used since `start`.
    static func finish(_ start: Start) -> StepCPU {
        let seconds = max(micros(ContinuousClock.now - start.at) / 1e6, 1e-6)
        let server = serverPID.map { (processCPUSeconds(pid: $0) - start.server) / seconds } ?? 0
        let storage = storagePID.map { (processCPUSeconds(pid: $0) - start.storage) / seconds }
        return StepCPU(generator: (processCPUSeconds() - start.generator) / seconds, server: server, storage: storage)
    }
}

/// Resident set size of a process, in KiB (from /proc).
func residentKiB(pid: Int32) -> Int {
    guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return 0 }
    for line in status.split(separator: "\n") where line.hasPrefix("VmRSS:") {
        return Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "0") ?? 0
    }
    return 0
}

/// Lets this process (and the server it starts) hold many sockets for the watch fan-out.
func raiseFileLimit() {
    var limit = rlimit()
    getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
    limit.rlim_cur = limit.rlim_max
    setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
}

func micros(_ duration: Duration) -> Double {
    let (seconds, attoseconds) = duration.components
    return Double(seconds) * 1e6 + Double(attoseconds) / 1e12
}

func pad(_ text: String, _ width: Int) -> String {
    text.count >= width ? text : text + String(repeating: " ", count: width - text.count)
}

func format(_ value: Double, _ digits: Int = 1) -> String {
    String(format: "%.\(digits)f", value)
}
