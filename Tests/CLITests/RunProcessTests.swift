import ApoxyTestSupport
import Foundation
import Testing

/// The child-process helper every CLI and integration test runs through (swift-subprocess underneath).
struct RunProcessTests {
    @Test func passesStdinEnvironmentAndArgumentsAndReportsTheExitCode() async throws {
        let result = try await runProcess(
            "/bin/sh", ["-c", "read line; echo \"$line $APOXY_PROBE $0\"; echo oops >&2; exit 3", "arg0"],
            environment: ["APOXY_PROBE": "env-ok"], stdin: "stdin-ok\n")
        #expect(result.status == 3)
        #expect(result.stdout == "stdin-ok env-ok arg0\n")
        #expect(result.stderr == "oops\n")
    }

    @Test func aChildPastItsTimeoutIsStoppedEvenWhenItIgnoresSIGTERM() async throws {
        let started = ContinuousClock.now
        // The shell ignores SIGTERM, so only the SIGKILL 5 s after it ends the child.
        let result = try await runProcess("/bin/sh", ["-c", "trap '' TERM; while :; do sleep 0.1; done"], timeout: .seconds(1))
        let elapsed = ContinuousClock.now - started
        #expect(result.status == -1)
        #expect(result.stderr.contains("timed out after"))
        #expect(elapsed < .seconds(20), "took \(elapsed)")
    }

    @Test func aSignalledChildReportsOneHundredTwentyEightPlusTheSignal() async throws {
        let result = try await runProcess("/bin/sh", ["-c", "kill -9 $$"])
        #expect(result.status == 128 + 9)
    }
}
