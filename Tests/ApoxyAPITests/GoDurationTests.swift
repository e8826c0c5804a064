import ApoxyAPI
import ApoxyTestSupport
import Testing

private let nanosecond: Int64 = 1
private let microsecond: Int64 = 1_000
private let millisecond: Int64 = 1_000_000
private let second: Int64 = 1_000_000_000
private let minute: Int64 = 60 * second
private let hour: Int64 = 60 * minute

/// Go's error message for `text`, or nil when it parses; typed throws lets us read `message` directly.
private func parseFailure(_ text: String) -> String? {
    do {
        _ = try GoDuration(parsing: text)
        return nil
    } catch {
        return error.message
    }
}

@Suite("GoDuration")
struct GoDurationTests {
    // Includes the vectors from Go's own time_test.go, so agreement with Go is checked directly.
    @Test(
        "parses to the same nanoseconds as Go",
        arguments: [
            ("300ms", 300 * millisecond),
            ("1h2m3.5s", hour + 2 * minute + 3 * second + 500 * millisecond),
            ("0s", 0),
            ("0", 0),
            ("-0", 0),
            ("+0", 0),
            ("1m30s", minute + 30 * second),
            ("1.5h", hour + 30 * minute),
            ("60s", 60 * second),
            ("5m", 5 * minute),
            (".5s", 500 * millisecond),
            ("1.s", second),
            ("5.0s", 5 * second),
            ("5.6s", 5 * second + 600 * millisecond),
            ("1.004s", second + 4 * millisecond),
            ("1.0040s", second + 4 * millisecond),
            ("100.00100s", 100 * second + millisecond),
            ("10ns", 10 * nanosecond),
            ("11us", 11 * microsecond),
            ("13ms", 13 * millisecond),
            ("16h", 16 * hour),
            ("3h30m", 3 * hour + 30 * minute),
            ("10.5s4m", 4 * minute + 10 * second + 500 * millisecond),
            ("1h2m3s4ms5us6ns", hour + 2 * minute + 3 * second + 4 * millisecond + 5 * microsecond + 6 * nanosecond),
            ("39h9m14.425s", 39 * hour + 9 * minute + 14 * second + 425 * millisecond),
            ("52763797000ns", 52_763_797_000),
            ("0.3333333333333333333h", 20 * minute),
            ("0.100000000000000000000h", 6 * minute),
            ("0.830103483285477580700h", 49 * minute + 48 * second + 372_539_827),
            (".12345678901234567890123s", 123_456_789),
            ("1.00000000000000000000000000001s", second),
            ("9007199254740993ns", (1 << 53) + 1),
            ("9223372036854775807ns", Int64.max),
            ("9223372036854775.807us", Int64.max),
            ("9223372036s854ms775us807ns", Int64.max),
            ("2562047h47m16.854775807s", Int64.max),
            ("+5s", 5 * second),
            ("-5s", -5 * second),
            ("-1s", -second),
            ("-2m3.4s", -(2 * minute + 3 * second + 400 * millisecond)),
            ("-9223372036854775808ns", Int64.min),
            ("-9223372036854775.808us", Int64.min),
            ("-9223372036s854ms775us808ns", Int64.min),
            ("-2562047h47m16.854775808s", Int64.min),
        ] as [(String, Int64)])
    func parses(text: String, expected: Int64) throws {
        #expect(try GoDuration(parsing: text).nanoseconds == expected)
    }

    @Test("all three microsecond spellings parse", arguments: ["1us", "1\u{00B5}s", "1\u{03BC}s"])
    func microsecondSpellings(text: String) throws {
        #expect(try GoDuration(parsing: text) == GoDuration(nanoseconds: microsecond))
    }

    // Expected strings from Go's time_test.go durationTests plus the forms Kubernetes objects carry.
    @Test(
        "formats like Go's Duration.String",
        arguments: [
            (0, "0s"),
            (1, "1ns"),
            (1_100, "1.1\u{00B5}s"),
            (1_500, "1.5\u{00B5}s"),
            (millisecond, "1ms"),
            (300 * millisecond, "300ms"),
            (2_200 * microsecond, "2.2ms"),
            (3_300 * millisecond, "3.3s"),
            (5 * second, "5s"),
            (60 * second, "1m0s"),
            (5 * minute, "5m0s"),
            (4 * minute + 5 * second, "4m5s"),
            (4 * minute + 5_001 * millisecond, "4m5.001s"),
            (5 * hour + 6 * minute + 7_001 * millisecond, "5h6m7.001s"),
            (8 * minute + 1, "8m0.000000001s"),
            (hour, "1h0m0s"),
            (hour + 2 * minute + 3_500 * millisecond, "1h2m3.5s"),
            (-(minute + 30 * second), "-1m30s"),
            (-1, "-1ns"),
            (-1_500, "-1.5\u{00B5}s"),
            (Int64.max, "2562047h47m16.854775807s"),
            (Int64.min, "-2562047h47m16.854775808s"),
        ] as [(Int64, String)])
    func formats(nanoseconds: Int64, expected: String) {
        #expect(GoDuration(nanoseconds: nanoseconds).description == expected)
    }

    @Test("Go prints the micro sign U+00B5, never the Greek mu")
    func microSignScalar() {
        let scalars = GoDuration(nanoseconds: 1_500).description.unicodeScalars.map(\.value)
        #expect(scalars == [0x31, 0x2E, 0x35, 0xB5, 0x73])
    }

    @Test(
        "parsing then printing yields Go's canonical form",
        arguments: [
            ("60s", "1m0s"),
            ("5m", "5m0s"),
            ("0", "0s"),
            ("1.5h", "1h30m0s"),
            (".5s", "500ms"),
            ("1.s", "1s"),
            ("1000ms", "1s"),
            ("90m", "1h30m0s"),
            ("1\u{03BC}s", "1\u{00B5}s"),
            ("1h2m3.5s", "1h2m3.5s"),
            ("+300ms", "300ms"),
            ("-90s", "-1m30s"),
        ] as [(String, String)])
    func canonicalizes(text: String, expected: String) throws {
        #expect(try GoDuration(parsing: text).description == expected)
    }

    @Test("format then parse is the identity on boundary values")
    func roundTripsBoundaries() throws {
        var values: [Int64] = [Int64.min, Int64.min + 1, Int64.max, Int64.max - 1, 0]
        for base in [nanosecond, microsecond, millisecond, second, minute, hour] {
            for delta: Int64 in [-1, 0, 1] {
                values += [base + delta, -(base + delta), 999 * base + delta, 1_001 * base + delta]
            }
        }
        for value in values {
            let duration = GoDuration(nanoseconds: value)
            #expect(try GoDuration(parsing: duration.description) == duration, "\(value) printed as \(duration)")
        }
    }

    @Test("format then parse is the identity on 20,000 pseudo-random values of every magnitude")
    func roundTripsRandom() throws {
        var rng = SplitMix64(seed: 0x5EED)
        var failures: [Int64] = []
        for _ in 0..<20_000 {
            // Shifting right by a random amount spreads values over ns, µs, ms, s, m and h ranges.
            let bits = rng.next()
            let value = Int64(bitPattern: bits) >> Int64(rng.next() % 64)
            let duration = GoDuration(nanoseconds: value)
            if (try? GoDuration(parsing: duration.description)) != duration {
                failures.append(value)
            }
        }
        #expect(failures.isEmpty, "first failures: \(failures.prefix(5))")
    }

    @Test(
        "rejects malformed or out-of-range text with Go's exact message",
        arguments: [
            ("", #"time: invalid duration """#),
            ("abc", #"time: invalid duration "abc""#),
            ("1", #"time: missing unit in duration "1""#),
            ("3", #"time: missing unit in duration "3""#),
            ("00", #"time: missing unit in duration "00""#),
            ("-1", #"time: missing unit in duration "-1""#),
            ("1.5.5s", #"time: missing unit in duration "1.5.5s""#),
            ("1x", #"time: unknown unit "x" in duration "1x""#),
            ("1d", #"time: unknown unit "d" in duration "1d""#),
            ("1S", #"time: unknown unit "S" in duration "1S""#),
            ("1e3s", #"time: unknown unit "e" in duration "1e3s""#),
            ("1h 2m", #"time: unknown unit "h " in duration "1h 2m""#),
            ("1s ", #"time: unknown unit "s " in duration "1s ""#),
            ("s", #"time: invalid duration "s""#),
            ("-", #"time: invalid duration "-""#),
            ("+", #"time: invalid duration "+""#),
            ("--1s", #"time: invalid duration "--1s""#),
            (" 1s", #"time: invalid duration " 1s""#),
            (".", #"time: invalid duration ".""#),
            ("-.", #"time: invalid duration "-.""#),
            (".s", #"time: invalid duration ".s""#),
            ("+.s", #"time: invalid duration "+.s""#),
            ("9223372036854775808ns", #"time: invalid duration "9223372036854775808ns""#),
            ("9223372036854775810ns", #"time: invalid duration "9223372036854775810ns""#),
            ("-9223372036854775809ns", #"time: invalid duration "-9223372036854775809ns""#),
            ("99999999999999999999s", #"time: invalid duration "99999999999999999999s""#),
            ("9223372036854776us", #"time: invalid duration "9223372036854776us""#),
            ("9223372036854775.808us", #"time: invalid duration "9223372036854775.808us""#),
            ("9223372036854ms775us808ns", #"time: invalid duration "9223372036854ms775us808ns""#),
            ("2562048h", #"time: invalid duration "2562048h""#),
            ("3000000h", #"time: invalid duration "3000000h""#),
        ] as [(String, String)])
    func rejects(text: String, message: String) {
        #expect(parseFailure(text) == message)
    }

    @Test("error messages quote like Go's time package: non-ASCII and control bytes as \\x, quotes escaped")
    func quotesLikeGo() {
        #expect(parseFailure("1\u{00B5}x") == #"time: unknown unit "\xc2\xb5x" in duration "1\xc2\xb5x""#)
        #expect(parseFailure("1\ts") == #"time: unknown unit "\x09s" in duration "1\x09s""#)
        #expect(parseFailure("1\"s") == #"time: unknown unit "\"s" in duration "1\"s""#)
        #expect(parseFailure("\\") == #"time: invalid duration "\\""#)
        #expect(parseFailure("1\u{FFFD}") == #"time: unknown unit "\xef\xbf\xbd" in duration "1\xef\xbf\xbd""#)
    }

    // Go's uint64 accumulator wraps to 0 when two 1<<63 terms are summed and Go accepts that;
    // we mirror it on purpose so both sides accept the same strings.
    @Test("mirrors Go's wrap when two 1<<63 terms are summed")
    func mirrorsGoWrap() throws {
        #expect(try GoDuration(parsing: "9223372036854775808ns9223372036854775808ns").nanoseconds == 0)
        #expect(parseFailure("9223372036854775808ns1ns") == #"time: invalid duration "9223372036854775808ns1ns""#)
    }

    @Test("errors are typed, equatable and print their message")
    func errorValue() {
        let expected = GoDurationParseError(message: #"time: invalid duration "abc""#)
        #expect(throws: expected) { try GoDuration(parsing: "abc") }
        #expect(expected.description == expected.message)
        #expect(expected != GoDurationParseError(message: "other"))
    }

    @Test("unit helpers scale to nanoseconds")
    func helpers() {
        #expect(GoDuration.milliseconds(300).nanoseconds == 300_000_000)
        #expect(GoDuration.seconds(5).nanoseconds == 5_000_000_000)
        #expect(GoDuration.minutes(5).nanoseconds == 300_000_000_000)
        #expect(GoDuration.hours(2).nanoseconds == 7_200_000_000_000)
        #expect(GoDuration.seconds(-90).description == "-1m30s")
        #expect(GoDuration.minutes(1) == GoDuration.seconds(60))
    }

    @Test("orders and hashes by signed length")
    func comparableAndHashable() {
        let shuffled: [GoDuration] = [.hours(1), .seconds(-1), .milliseconds(1), GoDuration(nanoseconds: 0), .minutes(1)]
        #expect(shuffled.sorted().map(\.description) == ["-1s", "0s", "1ms", "1m0s", "1h0m0s"])
        #expect(GoDuration.seconds(1) < GoDuration.seconds(2))
        #expect(!(GoDuration.seconds(2) < GoDuration.seconds(2)))
        #expect(Set([GoDuration.seconds(60), .minutes(1), .hours(1)]).count == 2)
    }
}
