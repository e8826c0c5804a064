/// A Go `time.Duration`: parsed from Go duration strings, printed in Go's canonical form.
public struct GoDuration: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// The signed length in nanoseconds, the same Int64 that Go stores.
    public var nanoseconds: Int64

    /// Creates a duration of exactly `nanoseconds` nanoseconds.
    public init(nanoseconds: Int64) {
        self.nanoseconds = nanoseconds
    }

    /// A duration of `ms` milliseconds; traps on Int64 overflow like any Swift arithmetic.
    public static func milliseconds(_ ms: Int64) -> GoDuration {
        GoDuration(nanoseconds: ms * nanosecondsPerMillisecond)
    }

    /// A duration of `s` seconds; traps on Int64 overflow like any Swift arithmetic.
    public static func seconds(_ s: Int64) -> GoDuration {
        GoDuration(nanoseconds: s * nanosecondsPerSecond)
    }

    /// A duration of `m` minutes; traps on Int64 overflow like any Swift arithmetic.
    public static func minutes(_ m: Int64) -> GoDuration {
        GoDuration(nanoseconds: m * nanosecondsPerMinute)
    }

    /// A duration of `h` hours; traps on Int64 overflow like any Swift arithmetic.
    public static func hours(_ h: Int64) -> GoDuration {
        GoDuration(nanoseconds: h * nanosecondsPerHour)
    }

    /// Orders durations by their signed length.
    public static func < (lhs: GoDuration, rhs: GoDuration) -> Bool {
        lhs.nanoseconds < rhs.nanoseconds
    }

    private static let nanosecondsPerMicrosecond: Int64 = 1_000
    private static let nanosecondsPerMillisecond: Int64 = 1_000_000
    private static let nanosecondsPerSecond: Int64 = 1_000_000_000
    private static let nanosecondsPerMinute: Int64 = 60 * nanosecondsPerSecond
    private static let nanosecondsPerHour: Int64 = 60 * nanosecondsPerMinute

    /// 1<<63: one past Int64.max, kept reachable because the magnitude of Int64.min needs it.
    private static let magnitudeLimit: UInt64 = 1 << 63

    // Units are matched byte-for-byte, as Go does: String equality would apply Unicode
    // canonical equivalence and could accept spellings Go rejects.
    private static let units: [(name: [UInt8], nanoseconds: UInt64)] = [
        (Array("ns".utf8), 1),
        (Array("us".utf8), UInt64(nanosecondsPerMicrosecond)),
        (Array("\u{00B5}s".utf8), UInt64(nanosecondsPerMicrosecond)),  // micro sign
        (Array("\u{03BC}s".utf8), UInt64(nanosecondsPerMicrosecond)),  // Greek small letter mu
        (Array("ms".utf8), UInt64(nanosecondsPerMillisecond)),
        (Array("s".utf8), UInt64(nanosecondsPerSecond)),
        (Array("m".utf8), UInt64(nanosecondsPerMinute)),
        (Array("h".utf8), UInt64(nanosecondsPerHour)),
    ]

    /// Parses a Go duration string with exactly the semantics of Go's `time.ParseDuration`.
    public init(parsing text: String) throws(GoDurationParseError) {
        // Work on UTF-8 bytes because Go's algorithm is byte-oriented; units may be multi-byte.
        let s = Array(text.utf8)
        let dot = UInt8(ascii: ".")
        let zero = UInt8(ascii: "0")
        let limit = Self.magnitudeLimit
        func isDigit(_ c: UInt8) -> Bool { c >= zero && c <= UInt8(ascii: "9") }
        func invalid() -> GoDurationParseError {
            GoDurationParseError(message: "time: invalid duration " + goQuote(text))
        }

        var i = 0
        var negative = false
        if let sign = s.first, sign == UInt8(ascii: "-") || sign == UInt8(ascii: "+") {
            negative = sign == UInt8(ascii: "-")
            i = 1
        }
        // A bare "0" is the only unit-less string Go accepts.
        if s.count - i == 1 && s[i] == zero {
            self.init(nanoseconds: 0)
            return
        }
        if i == s.count { throw invalid() }

        var total: UInt64 = 0
        while i < s.count {
            guard s[i] == dot || isDigit(s[i]) else { throw invalid() }

            // Integer part: overflow is a hard error, unlike in the fraction.
            var whole: UInt64 = 0
            let wholeStart = i
            while i < s.count, isDigit(s[i]) {
                if whole > limit / 10 { throw invalid() }
                whole = whole * 10 + UInt64(s[i] - zero)
                if whole > limit { throw invalid() }
                i += 1
            }
            let sawWhole = i != wholeStart

            // Fraction: digits past what fits in UInt64 only cost precision, so they are skipped.
            var fraction: UInt64 = 0
            var scale: Double = 1
            var sawFraction = false
            if i < s.count, s[i] == dot {
                i += 1
                let fractionStart = i
                var saturated = false
                while i < s.count, isDigit(s[i]) {
                    defer { i += 1 }
                    if saturated { continue }
                    if fraction > (limit - 1) / 10 {
                        saturated = true
                        continue
                    }
                    let next = fraction * 10 + UInt64(s[i] - zero)
                    if next > limit {
                        saturated = true
                        continue
                    }
                    fraction = next
                    scale *= 10
                }
                sawFraction = i != fractionStart
            }
            // "." alone (as in ".s") carries no digits at all.
            if !sawWhole && !sawFraction { throw invalid() }

            // The unit runs until the next number starts.
            let unitStart = i
            while i < s.count, s[i] != dot, !isDigit(s[i]) { i += 1 }
            if i == unitStart {
                throw GoDurationParseError(message: "time: missing unit in duration " + goQuote(text))
            }
            let unitBytes = s[unitStart..<i]
            guard let unit = Self.units.first(where: { $0.name.elementsEqual(unitBytes) })?.nanoseconds else {
                // Unit boundaries are ASCII bytes, so the slice is whole UTF-8 and decodes losslessly.
                let unitText = String(decoding: unitBytes, as: UTF8.self)
                throw GoDurationParseError(
                    message: "time: unknown unit " + goQuote(unitText) + " in duration " + goQuote(text))
            }

            if whole > limit / unit { throw invalid() }
            var value = whole * unit
            if fraction > 0 {
                // Same float64 expression as Go, so rounding (e.g. "0.3333333333333333333h") matches bit for bit;
                // the product is at most 3.6e12, so the conversion cannot trap.
                value += UInt64(Double(fraction) * (Double(unit) / scale))
                if value > limit { throw invalid() }
            }
            // Go's uint64 sum wraps when both sides are exactly 1<<63; wrap too so we accept what Go accepts.
            total &+= value
            if total > limit { throw invalid() }
        }

        if negative {
            // 1<<63 reinterpreted is Int64.min, whose negation is itself, as in Go.
            self.init(nanoseconds: 0 &- Int64(bitPattern: total))
            return
        }
        if total > limit - 1 { throw invalid() }
        self.init(nanoseconds: Int64(total))
    }

    /// The duration printed exactly as Go's `(time.Duration).String()` prints it, e.g. "1h2m3.5s".
    public var description: String {
        // Filled right to left like Go's format; the longest output, Int64.min, is 25 bytes.
        var buf = [UInt8](repeating: 0, count: 32)
        var w = buf.count
        var u = nanoseconds.magnitude
        let negative = nanoseconds < 0

        if u < UInt64(Self.nanosecondsPerSecond) {
            // Sub-second values switch to the largest unit below a second, e.g. "1.2ms".
            let precision: Int
            w -= 1
            buf[w] = UInt8(ascii: "s")
            w -= 1
            switch u {
            case 0:
                return "0s"
            case ..<UInt64(Self.nanosecondsPerMicrosecond):
                precision = 0
                buf[w] = UInt8(ascii: "n")
            case ..<UInt64(Self.nanosecondsPerMillisecond):
                precision = 3
                // Go prints the micro sign U+00B5 (two UTF-8 bytes), not the Greek mu.
                w -= 1
                buf[w] = 0xC2
                buf[w + 1] = 0xB5
            default:
                precision = 6
                buf[w] = UInt8(ascii: "m")
            }
            (w, u) = Self.formatFraction(&buf, end: w, value: u, precision: precision)
            w = Self.formatInteger(&buf, end: w, value: u)
        } else {
            w -= 1
            buf[w] = UInt8(ascii: "s")
            (w, u) = Self.formatFraction(&buf, end: w, value: u, precision: 9)
            w = Self.formatInteger(&buf, end: w, value: u % 60)
            u /= 60
            if u > 0 {
                w -= 1
                buf[w] = UInt8(ascii: "m")
                w = Self.formatInteger(&buf, end: w, value: u % 60)
                u /= 60
                // Hours are the largest unit because days vary in length.
                if u > 0 {
                    w -= 1
                    buf[w] = UInt8(ascii: "h")
                    w = Self.formatInteger(&buf, end: w, value: u)
                }
            }
        }

        if negative {
            w -= 1
            buf[w] = UInt8(ascii: "-")
        }
        return String(decoding: buf[w...], as: UTF8.self)
    }

    /// Writes `value`'s last `precision` digits as ".ddd" ending before `end`, dropping trailing zeros
    /// (and the dot when all are zero); returns the new start and `value / 10^precision`.
    private static func formatFraction(_ buf: inout [UInt8], end: Int, value: UInt64, precision: Int) -> (Int, UInt64) {
        var w = end
        var v = value
        var printing = false
        for _ in 0..<precision {
            let digit = v % 10
            printing = printing || digit != 0
            if printing {
                w -= 1
                buf[w] = UInt8(ascii: "0") + UInt8(digit)
            }
            v /= 10
        }
        if printing {
            w -= 1
            buf[w] = UInt8(ascii: ".")
        }
        return (w, v)
    }

    /// Writes `value` in decimal ending before `end`; returns the new start.
    private static func formatInteger(_ buf: inout [UInt8], end: Int, value: UInt64) -> Int {
        var w = end
        var v = value
        repeat {
            w -= 1
            buf[w] = UInt8(ascii: "0") + UInt8(v % 10)
            v /= 10
        } while v > 0
        return w
    }
}

/// The error thrown when text is not a Go duration; `message` is Go's own error text.
public struct GoDurationParseError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Go's message, e.g. `time: invalid duration "abc"`.
    public var message: String

    /// Creates an error carrying `message` verbatim.
    public init(message: String) {
        self.message = message
    }

    /// The message, so printing the error reads like Go's `err.Error()`.
    public var description: String { message }
}

/// Quotes `text` the way Go's time package does in error messages (not full strconv.Quote).
private func goQuote(_ text: String) -> String {
    let hex = Array("0123456789abcdef".utf8)
    var out: [UInt8] = [UInt8(ascii: "\"")]
    // Go escapes every byte of a non-ASCII or control rune; in valid UTF-8 every byte of a non-ASCII
    // rune is >= 0x80, so a per-byte test escapes exactly the same bytes.
    for byte in text.utf8 {
        if byte >= 0x80 || byte < 0x20 {
            out += [UInt8(ascii: "\\"), UInt8(ascii: "x"), hex[Int(byte >> 4)], hex[Int(byte & 0xF)]]
        } else {
            if byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") {
                out.append(UInt8(ascii: "\\"))
            }
            out.append(byte)
        }
    }
    out.append(UInt8(ascii: "\""))
    return String(decoding: out, as: UTF8.self)
}
