import SMTPProtocol
import Testing

@Suite("Mailbox")
struct MailboxTests {
    @Test func descriptionWritesDotStringUnquoted() {
        #expect(Mailbox(localPart: "first.last", domain: "example.com").description == "first.last@example.com")
        #expect(Mailbox(localPart: "a+tag", domain: "example.com").description == "a+tag@example.com")
    }

    @Test(arguments: [
        ("a b", #""a b"@x.example"#),
        (#"a"b"#, #""a\"b"@x.example"#),
        (#"a\b"#, #""a\\b"@x.example"#),
        ("a..b", #""a..b"@x.example"#),
        (".a", #"".a"@x.example"#),
        ("a.", #""a."@x.example"#),
        ("", #"""@x.example"#),
        ("a@b", #""a@b"@x.example"#),
    ])
    func descriptionQuotesWhenNeeded(localPart: String, expected: String) {
        #expect(Mailbox(localPart: localPart, domain: "x.example").description == expected)
    }

    @Test func normalizedDomainLowercasesAndDropsTrailingDot() {
        let mailbox = Mailbox(localPart: "User", domain: "Example.COM.")
        #expect(mailbox.domain == "Example.COM.")
        #expect(mailbox.normalizedDomain == "example.com")
        #expect(mailbox.localPart == "User")
    }

    @Test func addressLiterals() {
        #expect(Mailbox(localPart: "a", domain: "[192.0.2.1]").isAddressLiteral)
        #expect(Mailbox(localPart: "a", domain: "[IPv6:2001:db8::1]").isAddressLiteral)
        #expect(!Mailbox(localPart: "a", domain: "example.com").isAddressLiteral)
    }

    @Test func requiresSMTPUTF8OnlyForNonASCII() {
        #expect(!Mailbox(localPart: "a", domain: "example.com").requiresSMTPUTF8)
        #expect(Mailbox(localPart: "用户", domain: "example.com").requiresSMTPUTF8)
        #expect(Mailbox(localPart: "a", domain: "例子.广告").requiresSMTPUTF8)
    }

    @Test func parsingText() {
        #expect(Mailbox(parsing: "a@example.com") == Mailbox(localPart: "a", domain: "example.com"))
        #expect(Mailbox(parsing: #""a b"@example.com"#) == Mailbox(localPart: "a b", domain: "example.com"))
        #expect(Mailbox(parsing: "a@[192.0.2.1]") == Mailbox(localPart: "a", domain: "[192.0.2.1]"))
        #expect(Mailbox(parsing: "a@example.com trailing") == nil)
        #expect(Mailbox(parsing: "<a@example.com>") == nil)
        #expect(Mailbox(parsing: "a") == nil)
    }

    @Test(arguments: [
        "[192.0.2.1]", "[0.0.0.0]", "[255.255.255.255]",
        "[IPv6:2001:db8::1]", "[IPv6:::1]", "[ipv6:1:2:3:4:5:6:7:8]", "[IPv6:::ffff:192.0.2.1]",
        "[IPv6:1:2:3:4:5:6:192.0.2.1]", "[IPv6:1::]", "[x-tag:anything]",
    ])
    func validAddressLiterals(literal: String) {
        #expect(Mailbox(parsing: "a@\(literal)")?.domain == literal)
    }

    @Test(arguments: [
        "[256.1.1.1]", "[1.2.3]", "[1.2.3.4.5]", "[1.2.3.]", "[1234.1.1.1]", "[]",
        "[IPv6:1:2:3:4:5:6:7]", "[IPv6:1:2:3:4:5:6:7:8:9]", "[IPv6:1::2::3]", "[IPv6:12345::1]",
        "[IPv6:1:2:3:4:5:6:7::8]", "[IPv6:g::1]", "[IPv6:1:2:3:4:5:6:7:192.0.2.1]", "[-tag:x]", "[tag:]",
        "[192.0.2.1", "[1.2.3.4 ]",
    ])
    func invalidAddressLiterals(literal: String) {
        #expect(Mailbox(parsing: "a@\(literal)") == nil)
    }

    @Test(arguments: [
        "a@-example.com", "a@example-.com", "a@example..com", "a@.example.com", "a@exa_mple.com",
        "a@", "@example.com", ".a@example.com", "a.@example.com", "a..b@example.com", "a@example.com..",
        "a b@example.com", "\"a\u{01}\"@example.com", "a@\(String(repeating: "x", count: 64)).com",
        "a@" + String(repeating: "abcdefghi.", count: 26) + "com",
    ])
    func invalidMailboxes(text: String) {
        #expect(Mailbox(parsing: text) == nil)
    }

    @Test func domainLengthLimits() {
        let label63 = String(repeating: "x", count: 63)
        #expect(Mailbox(parsing: "a@\(label63).com") != nil)
        let domain255 = String(repeating: "abcdefghi.", count: 25) + "abcde"
        #expect(domain255.utf8.count == 255)
        #expect(Mailbox(parsing: "a@\(domain255)") != nil)
    }
}
