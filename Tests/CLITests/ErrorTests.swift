import ApoxyAPI
import ApoxyTestSupport
import Foundation
import Testing

/// Error output and exit codes: the server's Status with one line per cause, and a distinct code per kind.
@Suite("apoxy CLI: errors and exit codes") struct ErrorTests {
    @Test func serverErrorsHaveTheirOwnExitCodes() async throws {
        try await CLISession.with { session in
            // NotFound: 3.
            let missing = try await session.apoxy("backend", "get", "nope")
            expectFailure(missing, 3, "get missing")
            #expect(missing.stdout.isEmpty)
            #expect(missing.stderr == "Error from server (NotFound): backends.core.apoxy.dev \"nope\" not found\n")
            expectFailure(try await session.apoxy("backend", "get", "nope", "-o", "json"), 3, "get missing as json")
            expectFailure(try await session.apoxy("backend", "delete", "nope"), 3, "delete missing")
            expectFailure(try await session.apoxy("backend", "edit", "nope"), 3, "edit missing")

            // AlreadyExists: 4.
            let file = try session.write("web.yaml", backendYAML("web"))
            #expect(try await session.apoxy("backend", "create", "-f", file).status == 0)
            let exists = try await session.apoxy("backend", "create", "-f", file)
            expectFailure(exists, 4, "create twice")
            #expect(exists.stderr == "Error from server (AlreadyExists): backends.core.apoxy.dev \"web\" already exists\n")

            // Invalid: 5, the message's head, then every cause on its own line.
            let bad = try session.write(
                "bad.yaml", backendYAML("bad", endpoints: ["ip: 0.0.0.0", "fqdn: -bad-"], protocol: "http3"))
            let invalid = try await session.apoxy("backend", "create", "-f", bad)
            expectFailure(invalid, 5, "invalid object")
            let invalidLines = lines(invalid.stderr)
            #expect(invalidLines.first == #"Error from server (Invalid): Backend.core.apoxy.dev "bad" is invalid:"#, "\(invalid.stderr)")
            #expect(invalidLines.count == 4, "\(invalid.stderr)")
            #expect(
                invalidLines.contains(#"* spec.protocol: Unsupported value: "http3": supported values: "", "tls", "h2", "h2c""#),
                "\(invalid.stderr)")
            #expect(invalidLines.contains { $0.hasPrefix(#"* spec.endpoints[0].ip: Invalid value: "0.0.0.0""#) }, "\(invalid.stderr)")
            #expect(invalidLines.contains { $0.hasPrefix(#"* spec.endpoints[1].fqdn: Invalid value: "-bad-""#) }, "\(invalid.stderr)")
            expectFailure(try await session.apoxy("backend", "apply", "-f", bad), 5, "apply invalid")

            // A wrong apiVersion is a BadRequest: also 5.
            let wrongVersion = try await session.apoxy(
                "backend", "create", "-f", "-", stdin: backendYAML("v").replacingOccurrences(of: "v1alpha2", with: "v9"))
            expectFailure(wrongVersion, 5, "wrong apiVersion")
            #expect(wrongVersion.stderr.hasPrefix("Error from server (BadRequest): "), "\(wrongVersion.stderr)")
        }
    }

    @Test func badInputFilesExitWithSeven() async throws {
        try await CLISession.with { session in
            let cases: [(String, String, String)] = [
                ("malformed YAML", "apiVersion: v1\nkind: [Backend\n", "invalid YAML: "),
                ("a scalar document", "just text\n", "expected an object, found a string"),
                ("a list document", "- a\n- b\n", "expected an object, found a list"),
                ("malformed JSON", "{\"kind\": \"Backend\",\n \"spec\": {\"protocol\": \"h2\"}\n", "invalid YAML: "),
                ("no documents", "# nothing here\n", "no objects found in "),
            ]
            for (what, text, message) in cases {
                let file = try session.write("input.yaml", text)
                let result = try await session.apoxy("backend", "create", "-f", file)
                expectFailure(result, 7, what)
                #expect(result.stderr.hasPrefix("error: "), "\(what): \(result.stderr)")
                #expect(result.stderr.contains(message), "\(what): \(result.stderr)")
                #expect(lines(result.stderr).count == 1, "\(what): \(result.stderr)")
            }
            let missing = try await session.apoxy("backend", "apply", "-f", "/nonexistent/web.yaml")
            expectFailure(missing, 7, "missing file")
            #expect(missing.stderr == "error: /nonexistent/web.yaml: no such file or directory\n")
            let malformedLine = try await session.apoxy("backend", "create", "-f", "-", stdin: "metadata:\n  name: x\n bad: indent\n")
            expectFailure(malformedLine, 7, "bad indentation")
            #expect(malformedLine.stderr.contains("line 3"), "\(malformedLine.stderr)")
            // Nothing was created by any of them.
            let left = try await session.apoxy("backend", "list", "-o", "name")
            #expect(left.status == 0 && left.stdout.isEmpty, "\(left)")
        }
    }

    @Test func unreachableServerExitsWithSix() async throws {
        try await withRefusingPort { port in try await expectUnreachable("http://127.0.0.1:\(port)") }
    }

    private func expectUnreachable(_ url: String) async throws {
        for arguments in [["backend", "list"], ["backend", "get", "web"], ["backend", "delete", "--all"], ["backend", "watch"]] {
            let result = try await runProcess(apoxyBinary, arguments + ["--server", url], environment: ["KUBECONFIG": ""])
            expectFailure(result, 6, "\(arguments)")
            #expect(result.stderr == "error: cannot connect to the server at \(url): connection refused\n", "\(arguments)")
        }
        let manifest = backendYAML("web")
        for verb in ["create", "apply"] {
            let result = try await runProcess(
                apoxyBinary, ["backend", verb, "-f", "-", "--server", url], environment: ["KUBECONFIG": ""], stdin: manifest)
            expectFailure(result, 6, verb)
            #expect(result.stderr == "error: cannot connect to the server at \(url): connection refused\n", "\(verb): \(result.stderr)")
        }
        let unresolvable = try await runProcess(
            apoxyBinary, ["backend", "list", "--server", "http://apoxy-no-such-host.invalid:8080"], environment: ["KUBECONFIG": ""])
        expectFailure(unresolvable, 6, "unresolvable host")
        #expect(unresolvable.stderr.hasPrefix("error: cannot connect to the server at http://apoxy-no-such-host.invalid:8080: "))
        // The default server is the local one on 8080: whatever runs there, the address is the one tried.
        let version = try await runProcess(apoxyBinary, ["version", "--server", url], environment: ["KUBECONFIG": ""])
        expectFailure(version, 6, "version without a server")
        #expect(version.stdout == "Client Version: v0.1.0\n")
    }

    @Test func requestTimeoutEndsARequestTheServerNeverAnswers() async throws {
        try await withSilentPort { port in
            let url = "http://127.0.0.1:\(port)"
            for (flag, verb) in [("1s", ["backend", "list"]), ("1", ["backend", "get", "web"])] {
                let started = ContinuousClock.now
                let result = try await runProcess(
                    apoxyBinary, verb + ["--server", url, "--request-timeout", flag], environment: ["KUBECONFIG": ""])
                let took = ContinuousClock.now - started
                expectFailure(result, 6, "\(verb)")
                #expect(result.stderr == "error: cannot connect to the server at \(url): the request timed out\n", "\(verb)")
                // A second, whatever the process start costs; without the flag it would wait for ever.
                #expect(took >= .seconds(1) && took < .seconds(30), "\(verb) took \(took)")
            }
        }
    }

    @Test func usageErrorsExitWithTwo() async throws {
        let cases: [([String], String)] = [
            (["backend", "list", "--bogus"], "Unknown option '--bogus'"),
            (["backend", "get"], "Missing expected argument '<name>'"),
            (["backend", "list", "-o", "xml"], "The value 'xml' is invalid for '-o <format>'"),
            (["backend", "create"], "-f/--filename is required"),
            (["backend", "create", "-f", "x.yaml", "-o", "wide"], "-o wide is only for reading"),
            (["backend", "delete"], "give Backend names, -f FILE, --all or -l SELECTOR"),
            (["backend", "delete", "web", "--all"], "names, -f and --all/-l/--field-selector exclude each other"),
            (["backend", "watch", "--timeout", "0"], "--timeout must be a positive number of seconds"),
            (["backend", "list", "--server", "ftp://example.com"], "invalid server URL \"ftp://example.com\""),
            (["backend", "list", "--request-timeout", "soon"], "invalid --request-timeout \"soon\""),
            (["backend", "list", "--request-timeout=-1s"], "--request-timeout must not be negative"),
            (["backend", "list", "--chunk-size=-1"], "--chunk-size must be 0 or more"),
            (["backend", "frobnicate"], "Unexpected argument 'frobnicate'"),
            (["version", "-o", "name"], "-o must be json or yaml"),
        ]
        for (arguments, message) in cases {
            let result = try await runProcess(apoxyBinary, arguments, environment: ["KUBECONFIG": ""])
            expectFailure(result, 2, "\(arguments)")
            #expect(result.stderr.contains(message), "\(arguments): \(result.stderr)")
        }
    }
}
