import NIOCore
import Testing

@testable import ApoxyClient

/// Watch streams split into lines, whatever the chunking.
struct LineSequenceTests {
    func lines(_ chunks: [String]) async throws -> [String] {
        let (stream, continuation) = AsyncThrowingStream.makeStream(of: ByteBuffer.self)
        for chunk in chunks { continuation.yield(ByteBuffer(string: chunk)) }
        continuation.finish()
        var result: [String] = []
        for try await line in LineSequence(base: stream) { result.append(line) }
        return result
    }

    @Test func manyLinesInOneChunkAndOneLineInManyChunks() async throws {
        let many = (0..<5_000).map { "{\"n\":\($0)}" }
        #expect(try await lines([many.joined(separator: "\n") + "\n"]) == many)

        let long = String(repeating: "x", count: 200_000)
        let pieces = stride(from: 0, to: long.count, by: 997).map { offset in
            String(long.dropFirst(offset).prefix(997))
        }
        #expect(try await lines(pieces + ["\nnext\n"]) == [long, "next"])
    }

    @Test func emptyLinesSplitNewlinesAndATrailingLineWithoutNewline() async throws {
        #expect(try await lines(["a\n\nb", "c\n", "\n", "tail"]) == ["a", "", "bc", "", "tail"])
        #expect(try await lines(["", "\n"]) == [""])
        #expect(try await lines([]) == [])
    }
}
