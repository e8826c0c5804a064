import ApoxyAPI
import ApoxyTestSupport
import Testing

/// Random and adversarial patches against random documents: every one ends in a value or an error, never a crash or
/// a hang (deterministic seed, so a failure reproduces).
@Suite("Patch fuzzing", .timeLimit(.minutes(1)))
struct PatchFuzzTests {
    /// Random documents, pointers and operations from a deterministic sequence.
    struct Generator {
        var random: SplitMix64
        init(state: UInt64) { random = SplitMix64(seed: state) }
        mutating func below(_ n: Int) -> Int { Int(random.next() % UInt64(max(n, 1))) }

        mutating func value(depth: Int = 0) -> JSONValue {
            switch below(depth > 3 ? 4 : 7) {
            case 0: return .null
            case 1: return .bool(below(2) == 0)
            case 2: return .integer(Int64(below(1000)) - 500)
            case 3: return .string(["", "a", "~0", "~1", "/", "é", "-"][below(7)])
            case 4: return .array((0..<below(4)).map { _ in value(depth: depth + 1) })
            default:
                var members: [String: JSONValue] = [:]
                for _ in 0..<below(4) { members[["a", "b", "", "~", "/x", "0", "-"][below(7)]] = value(depth: depth + 1) }
                return .object(members)
            }
        }

        mutating func pointer() -> String {
            (0..<below(4)).map { _ in "/" + ["a", "b", "0", "1", "-", "", "~0", "~1", "~2", "99999999999999999999"][below(10)] }.joined()
        }

        mutating func operation() -> JSONValue {
            let op = ["add", "remove", "replace", "move", "copy", "test", "bogus"][below(7)]
            var member: [String: JSONValue] = ["op": .string(op), "path": .string(pointer())]
            if below(4) > 0 { member["value"] = value() }
            if below(2) == 0 { member["from"] = .string(pointer()) }
            if below(10) == 0 { member["path"] = .integer(3) }
            return .object(member)
        }
    }

    @Test func randomJSONPatchesEndInAValueOrAnError() {
        var generator = Generator(state: 0x5EED)
        var applied = 0
        var refused = 0
        for _ in 0..<5_000 {
            let document = generator.value()
            let patch: JSONValue =
                generator.below(20) == 0 ? generator.value() : .array((0..<generator.below(6)).map { _ in generator.operation() })
            do {
                _ = try JSONPatch(patch).apply(to: document)
                applied += 1
            } catch {
                refused += 1
                #expect(!error.message.isEmpty)
            }
        }
        #expect(applied > 0 && refused > 0, "the generator exercises both outcomes (\(applied) applied, \(refused) refused)")
    }

    @Test func randomMergePatchesAlwaysApplyAndRoundTrip() {
        var generator = Generator(state: 0xC0FFEE)
        for _ in 0..<3_000 {
            let original = generator.value()
            let modified = generator.value()
            // A diff applied to its source gives its target back, for objects (RFC 7386 cannot express other roots).
            if case .object = original, case .object = modified, !Self.containsNull(modified) {
                #expect(JSONMergePatch.apply(JSONMergePatch.diff(from: original, to: modified), to: original) == modified)
            }
            _ = JSONMergePatch.apply(generator.value(), to: original)
        }
    }

    /// Doubling copies: 30 of them would make a billion-element document; the patch engine must stay bounded.
    @Test func doublingCopiesDoNotExplode() {
        var operations: [JSONValue] = [["op": "add", "path": "/a", "value": ["x"]]]
        // Each copy appends /a to itself, doubling it.
        for _ in 0..<30 { operations.append(["op": "copy", "from": "/a", "path": "/a/-"]) }
        let started = ContinuousClock.now
        #expect(throws: JSONPatchError.self) { _ = try JSONPatch(.array(operations)).apply(to: .object([:])) }
        #expect(ContinuousClock.now - started < .seconds(5))
    }

    static func containsNull(_ value: JSONValue) -> Bool {
        switch value {
        case .null: return true
        case .array(let elements): return elements.contains(where: containsNull)
        case .object(let members): return members.values.contains(where: containsNull)
        default: return false
        }
    }
}
