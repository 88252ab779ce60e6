import SMTPProtocol
import Testing

@Suite("EnhancedStatusCode")
struct EnhancedStatusCodeTests {
    @Test(arguments: [("5.7.1", 5, 7, 1), ("2.0.0", 2, 0, 0), ("4.5.3", 4, 5, 3), ("5.7.11", 5, 7, 11), ("5.123.456", 5, 123, 456)])
    func parses(text: String, klass: Int, subject: Int, detail: Int) throws {
        let code = try #require(EnhancedStatusCode(text))
        #expect(code.class == klass)
        #expect(code.subject == subject)
        #expect(code.detail == detail)
        #expect(code.description == text)
        #expect(code == EnhancedStatusCode(klass, subject, detail))
    }

    @Test(arguments: [
        "1.0.0", "3.0.0", "6.0.0", "5.7", "5.7.1.1", "5.1234.1", "5.1.1234", "a.b.c", "5.7.1 ", " 5.7.1", "", "5..1", "55.7.1",
    ])
    func rejects(text: String) {
        #expect(EnhancedStatusCode(text) == nil)
    }
}
