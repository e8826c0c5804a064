import ApoxyAPI
import ApoxyTestSupport
import ApoxyYAML
import Foundation
import Testing

/// Hostile documents: each is refused quickly, with a short message, before anything grows with the expansion.
@Suite("Bounded YAML and JSON decoding", .timeLimit(.minutes(1)))
struct BoundedDecodingTests {
    /// The classic "billion laughs": nine levels of nine aliases expand to 9^9 values from about 250 bytes.
    static let aliasBomb = """
        a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
        b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
        c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
        d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
        e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
        f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
        g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
        h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
        i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]
        """

    @Test func anAliasBombIsRefusedAtOnce() throws {
        let started = ContinuousClock.now
        do {
            _ = try YAMLCoding.parseDocuments(Self.aliasBomb)
            Issue.record("the alias bomb was decoded")
        } catch {
            #expect(error.message.contains("excessive aliasing"))
            #expect(error.message.count < 200)
        }
        #expect(ContinuousClock.now - started < .seconds(2))
    }

    @Test func ordinaryAnchorsStillWork() throws {
        let documents = try YAMLCoding.parseDocuments(
            """
            defaults: &defaults {protocol: tls, endpoints: [{fqdn: a.example.com}]}
            one: *defaults
            two: *defaults
            """)
        #expect(documents.first?["two"]?["protocol"] == "tls")
        #expect(documents.first?["one"]?["endpoints"]?[0]?["fqdn"] == "a.example.com")
    }

    @Test(arguments: [
        String(repeating: "[", count: 100_000),
        String(repeating: "{a: ", count: 50_000),
        String(repeating: "- ", count: 200_000) + "x",
        (0..<2_000).map { String(repeating: " ", count: $0) + "k:" }.joined(separator: "\n"),
        "a: it's " + String(repeating: "[", count: 100_000),
    ])
    func deepNestingIsRefusedBeforeComposing(_ document: String) throws {
        #expect(throws: DocumentParseError.self) { _ = try YAMLCoding.parseDocuments(document) }
    }

    @Test func nestingWithinTheLimitIsFine() throws {
        let nested = String(repeating: "[", count: 100) + String(repeating: "]", count: 100)
        #expect(try YAMLCoding.parseDocuments(nested).count == 1)
        let block = (0..<50).map { String(repeating: "  ", count: $0) + "k\($0):" }.joined(separator: "\n") + " v"
        #expect(try YAMLCoding.parseDocuments(block).count == 1)
    }

    @Test func jsonDepthIsBounded() throws {
        let deep = Array(String(repeating: "[", count: 10_000).utf8)
        #expect(throws: JSONParseError.self) { _ = try JSONValue.parse(deep) }
    }

    @Test func errorMessagesQuoteAtMostAShortPrefix() throws {
        let huge = JSONValue.array((0..<10_000).map { .string("value-\($0)") })
        let message = FieldError(.invalid, "spec", huge, "must be an object").description
        #expect(message.utf8.count < 400)
        #expect(message.contains("(truncated)"))
    }

    /// Random and mutated inputs: an error or a value, never a crash or a hang.
    @Test func randomInputNeverCrashes() throws {
        var generator = SplitMix64(seed: 0xA90C)
        let alphabet = Array("{}[]:,-&*!|>'\"#\n abc123.\\u{00e9}".utf8)
        let seeds = [Self.aliasBomb, "a: [1, {b: c}]\nd: - e", #"{"a": [1, 2, {"b": null}]}"#]
        for round in 0..<3_000 {
            var bytes: [UInt8]
            if round % 2 == 0 {
                bytes = (0..<Int(generator.next() % 200)).map { _ in alphabet[Int(generator.next() % UInt64(alphabet.count))] }
            } else {
                bytes = Array(seeds[round % seeds.count].utf8)
                for _ in 0..<Int(1 + generator.next() % 8) where !bytes.isEmpty {
                    bytes[Int(generator.next() % UInt64(bytes.count))] = alphabet[Int(generator.next() % UInt64(alphabet.count))]
                }
            }
            let text = String(decoding: bytes, as: UTF8.self)
            _ = try? YAMLCoding.parseDocuments(text)
            _ = try? JSONValue.parse(bytes)
        }
    }
}
