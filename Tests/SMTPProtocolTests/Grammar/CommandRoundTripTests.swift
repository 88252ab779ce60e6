import NIOCore
import SMTPProtocol
import Testing

@Suite("SMTPCommand: parse(encode(c)) == c")
struct CommandRoundTripTests {
    static let commands: [SMTPCommand] = [
        .ehlo("client.example.com"),
        .ehlo("[192.0.2.1]"),
        .helo("client"),
        .mail(.null, MailParameters()),
        .mail(.mailbox(Mailbox(localPart: "alice", domain: "example.com")), MailParameters()),
        .mail(.mailbox(Mailbox(localPart: "a b", domain: "example.com")), MailParameters(size: 12345)),
        .mail(.mailbox(Mailbox(localPart: #"we"ird\"#, domain: "example.com")), MailParameters(body: .sevenBit)),
        .mail(.mailbox(Mailbox(localPart: "用户", domain: "例子.广告")), MailParameters(size: 1, body: .eightBitMIME, smtpUTF8: true)),
        .mail(.null, MailParameters(other: [ESMTPParameter(keyword: "AUTH", value: "<>"), ESMTPParameter(keyword: "RET", value: "FULL")])),
        .rcpt(ForwardPath(Mailbox(localPart: "bob", domain: "example.org")), []),
        .rcpt(.postmaster, []),
        .rcpt(ForwardPath(Mailbox(localPart: "bob", domain: "[IPv6:2001:db8::1]")), []),
        .rcpt(ForwardPath(Mailbox(localPart: "x.y+z", domain: "sub.example.org.")), [ESMTPParameter(keyword: "NOTIFY", value: "NEVER")]),
        .rcpt(ForwardPath(Mailbox(localPart: "", domain: "example.org")), []),
        .data, .rset, .noop, .quit, .startTLS,
        .vrfy("postmaster"),
        .help(nil), .help("MAIL"),
        .auth(mechanism: "PLAIN", initialResponse: nil),
        .auth(mechanism: "PLAIN", initialResponse: "AGFsaWNlAHNlY3JldA=="),
        .auth(mechanism: "LOGIN", initialResponse: "="),
    ]

    @Test(arguments: commands)
    func roundTrip(command: SMTPCommand) throws {
        let wire = encoded(command)
        #expect(wire.hasSuffix("\r\n"))
        #expect(try SMTPCommandParser.parse(bytes: Array(wire.utf8.dropLast(2))) == command)
    }

    @Test func encodingIsCanonical() {
        #expect(
            encoded(
                .mail(.mailbox(Mailbox(localPart: "a", domain: "b.example")), MailParameters(size: 10, body: .eightBitMIME, smtpUTF8: true))
            )
                == "MAIL FROM:<a@b.example> SIZE=10 BODY=8BITMIME SMTPUTF8\r\n")
        #expect(encoded(.mail(.null, MailParameters())) == "MAIL FROM:<>\r\n")
        #expect(encoded(.rcpt(.postmaster, [])) == "RCPT TO:<Postmaster>\r\n")
        #expect(
            encoded(.rcpt(ForwardPath(Mailbox(localPart: "a b", domain: "x.example")), [ESMTPParameter(keyword: "notify", value: "NEVER")]))
                == "RCPT TO:<\"a b\"@x.example> NOTIFY=NEVER\r\n")
        #expect(encoded(.startTLS) == "STARTTLS\r\n")
        #expect(encoded(.help(nil)) == "HELP\r\n")
        #expect(encoded(.auth(mechanism: "PLAIN", initialResponse: "dGVzdA==")) == "AUTH PLAIN dGVzdA==\r\n")
        #expect(encoded(.ehlo("me.example")) == "EHLO me.example\r\n")
    }
}
