import ApoxyAPI
import ApoxyYAML
import Testing

/// YAML mapping keys as kubectl's YAML-to-JSON conversion keeps them: by their bytes.
struct YAMLKeyTests {
    @Test func canonicallyEquivalentKeysStayTwoMembers() throws {
        // "é" precomposed and "e" + combining acute: different bytes, one String for Swift's ==.
        let documents = try YAMLCoding.parseDocuments("\"\u{E9}\": 1\n\"e\u{301}\": 2\n")
        let object = try #require(documents.first?.objectValue)
        #expect(object.count == 2)
        #expect(object["\u{E9}"] == 1 && object["e\u{301}"] == 2)
        // And back: both keys are written.
        let again = try YAMLCoding.parseDocuments(YAMLCoding.serialize(.object(object)))
        #expect(again.first == .object(object))
    }
}
