import Testing

@testable import Delivery

@Suite struct MXPatternTests {
    @Test(arguments: [
        ("*.google.com", "aspmx.l.google.com", true),
        ("*.google.com", "smtp.google.com", true),
        ("*.google.com", "google.com", false),
        ("*.google.com", "notgoogle.com", false),
        ("*.google.com", "google.com.evil.example", false),
        ("*.google.com", "ASPMX.L.Google.COM.", true),
        ("*.Google.com.", "aspmx.l.google.com", true),
        ("mx1.example.net", "mx1.example.net", true),
        ("mx1.example.net", "MX1.EXAMPLE.NET.", true),
        ("mx1.example.net", "a.mx1.example.net", false),
        ("*", "anything.example", true),
        ("*", "", false),
        (" *.icloud.com ", "mx01.mail.icloud.com", true),
    ])
    func matching(pattern: String, host: String, matches: Bool) {
        #expect(MXPattern(pattern).matches(host) == matches)
    }

    @Test func describesItselfNormalised() {
        #expect(MXPattern("*.Google.COM.").description == "*.google.com")
        #expect(MXPattern("MX.Example.net").description == "mx.example.net")
        #expect(MXPattern("*").description == "*")
    }
}
