import ApoxyServer
import Testing

/// kube's `--token-auth-file` CSV, parsed as its tokenfile package does.
@Suite("token file") struct TokenFileTests {
    @Test func recordsWithAndWithoutGroups() throws {
        let users = try TokenFile.parse(
            """
            t1,alice,uid-1,"devs,qa"
            t2,bob,uid-2
            t3, carol ,uid-3,ops

            "t,4",dave,uid-4,"a ""quoted"" group"
            ,skipped,uid-5
            t2,bobby,uid-6
            """)
        #expect(users["t1"] == UserInfo(name: "alice", uid: "uid-1", groups: ["devs", "qa"]))
        // Leading spaces are trimmed (Go's TrimLeadingSpace), trailing ones kept.
        #expect(users["t3"] == UserInfo(name: "carol ", uid: "uid-3", groups: ["ops"]))
        #expect(users["t,4"] == UserInfo(name: "dave", uid: "uid-4", groups: [#"a "quoted" group"#]))
        // An empty token is ignored; a later duplicate wins.
        #expect(users[""] == nil)
        #expect(users["t2"] == UserInfo(name: "bobby", uid: "uid-6"))
        #expect(users.count == 4)
        #expect(try TokenFile.parse("t,u,i\r\n")["t"] == UserInfo(name: "u", uid: "i"))
    }

    @Test func malformedRecords() {
        #expect(throws: TokenFile.ParseError.self) { try TokenFile.parse("t1,alice") }
        #expect(throws: TokenFile.ParseError.self) { try TokenFile.parse("t1,alice,uid,\"unterminated") }
        #expect(throws: TokenFile.ParseError.self) { try TokenFile.parse("t1,al\"ice,uid") }
        do {
            _ = try TokenFile.parse("ok,a,1\nbad")
            Issue.record("expected an error")
        } catch {
            #expect(error.line == 2)
            #expect(error.message == "must have at least 3 columns (token, user name, user uid), found 1")
        }
    }
}
