import ApoxyAPI
import ApoxyTestSupport
import ApoxyTranslation
import ApoxyYAML
import Foundation
import HashTreeCollections
import Testing

/// Golden files: each folder under Golden/ holds `input.yaml` (Backends and HTTPRoutes), optional `options.json`, and
/// `output.json`, the Envoy resources and per-object outcomes the translator must produce.
/// Run with `UPDATE_GOLDEN=1` to rewrite the outputs after an intended change, then review the diff.
struct TranslatorGoldenTests {
    static let goldenRoot = packageRoot.appendingPathComponent("Tests/TranslationTests/Golden")
    static let cases: [String] = {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: goldenRoot.path)) ?? []
        return names.sorted()
    }()

    @Test(arguments: cases)
    func goldenCase(_ name: String) throws {
        let folder = Self.goldenRoot.appendingPathComponent(name)
        let actual = try translateCase(folder)
        let outputURL = folder.appendingPathComponent("output.json")
        if ProcessInfo.processInfo.environment["UPDATE_GOLDEN"] == "1" {
            try Data(actual.prettySerialized() + [0x0a]).write(to: outputURL)
            return
        }
        let expected = try JSONValue.parse(String(contentsOf: outputURL, encoding: .utf8))
        #expect(actual == expected, "\(name): output differs from output.json (UPDATE_GOLDEN=1 rewrites it)")
    }

    @Test func everyCaseHasAGoldenOutput() {
        #expect(Self.cases.count >= 12)
        for name in Self.cases {
            let output = Self.goldenRoot.appendingPathComponent(name).appendingPathComponent("output.json")
            #expect(FileManager.default.fileExists(atPath: output.path), "\(name) has no output.json")
        }
    }
}

/// Translates one golden folder into the JSON compared with its `output.json`.
func translateCase(_ folder: URL) throws -> JSONValue {
    let input = try String(contentsOf: folder.appendingPathComponent("input.yaml"), encoding: .utf8)
    let documents = try YAMLCoding.parseDocuments(input)
    let backends = documents.filter { $0["kind"]?.stringValue == "Backend" }.map(Backend.init(json:))
    let routes = documents.filter { $0["kind"]?.stringValue == "HTTPRoute" }.map(RouteSource.init(httpRoute:))
    let options = try translatorOptions(folder.appendingPathComponent("options.json"))
    let (ir, resources) = try Translator.translate(backends: backends, routes: routes, options: options)
    var outcomes: [String: JSONValue] = [:]
    outcomes["backends"] = .object(
        Dictionary(
            uniqueKeysWithValues: ir.backends.mapValues { outcome in
                [
                    "generation": .integer(outcome.generation), "accepted": .bool(outcome.accepted),
                    "reason": .string(outcome.reason), "message": .string(outcome.message),
                    "clusters": .array(outcome.clusters.map(JSONValue.string)),
                ]
            }.map { ($0.key, $0.value) }))
    outcomes["routes"] = .object(
        Dictionary(
            uniqueKeysWithValues: ir.routes.mapValues { outcome in
                [
                    "generation": .integer(outcome.generation), "accepted": .bool(outcome.accepted),
                    "resolvedRefs": .bool(outcome.resolvedRefs), "refsReason": .string(outcome.refsReason),
                    "refsMessage": .string(outcome.refsMessage),
                ]
            }.map { ($0.key, $0.value) }))
    return ["envoy": try resources.json(), "outcomes": .object(outcomes)]
}

func translatorOptions(_ url: URL) throws -> TranslatorOptions {
    var options = TranslatorOptions()
    guard FileManager.default.fileExists(atPath: url.path) else { return options }
    let json = try JSONValue.parse(String(contentsOf: url, encoding: .utf8))
    func address(_ text: String) -> TranslatorOptions.SocketAddress {
        let colon = text.lastIndex(of: ":")!
        return .init(host: String(text[..<colon]), port: Int(text[text.index(after: colon)...])!)
    }
    if let family = json["strictDNSLookupFamily"]?.stringValue { options.strictDNSLookupFamily = family }
    if let resolver = json["dnsResolver"]?.stringValue { options.dnsResolver = address(resolver) }
    if let ca = json["trustedCAFile"]?.stringValue { options.trustedCAFile = ca }
    if let listener = json["listener"]?.stringValue { options.listener = address(listener) }
    if let interval = json["tcpHealthCheckInterval"]?.stringValue { options.tcpHealthCheckInterval = try GoDuration(parsing: interval) }
    return options
}
