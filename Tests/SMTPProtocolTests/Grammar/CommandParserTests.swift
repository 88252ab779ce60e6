import NIOCore
import SMTPProtocol
import Testing

@Suite("SMTPCommandParser: valid commands")
struct CommandParserTests {
    static let alice = Mailbox(localPart: "alice", domain: "example.com")
    static let bob = Mailbox(localPart: "bob", domain: "example.org")

    @Test(arguments: [
        ("EHLO client.example.com", SMTPCommand.ehlo("client.example.com")),
        ("ehlo [192.0.2.1]", .ehlo("[192.0.2.1]")),
        ("EhLo   spaced.example  ", .ehlo("spaced.example")),
        ("HELO client", .helo("client")),
        ("MAIL FROM:<alice@example.com>", .mail(.mailbox(alice), MailParameters())),
        ("mail from:<alice@example.com>", .mail(.mailbox(alice), MailParameters())),
        ("MAIL FROM: <alice@example.com>", .mail(.mailbox(alice), MailParameters())),
        ("MAIL FROM:<>", .mail(.null, MailParameters())),
        ("MAIL FROM:<> SIZE=0", .mail(.null, MailParameters(size: 0))),
        (
            "MAIL FROM:<alice@example.com> SIZE=1000 BODY=8BITMIME SMTPUTF8",
            .mail(.mailbox(alice), MailParameters(size: 1000, body: .eightBitMIME, smtpUTF8: true))
        ),
        ("MAIL FROM:<alice@example.com> body=7bit  size=5", .mail(.mailbox(alice), MailParameters(size: 5, body: .sevenBit))),
        (
            "MAIL FROM:<alice@example.com> SIZE=99999999999999999999",
            .mail(.mailbox(alice), MailParameters(size: Int.max))
        ),
        (
            "MAIL FROM:<alice@example.com> AUTH=<> RET=HDRS ENVID=x REQUIRETLS",
            .mail(
                .mailbox(alice),
                MailParameters(other: [
                    ESMTPParameter(keyword: "AUTH", value: "<>"), ESMTPParameter(keyword: "RET", value: "HDRS"),
                    ESMTPParameter(keyword: "ENVID", value: "x"), ESMTPParameter(keyword: "REQUIRETLS"),
                ]))
        ),
        ("MAIL FROM:<@relay.example:alice@example.com>", .mail(.mailbox(alice), MailParameters())),
        ("RCPT TO:<bob@example.org>", .rcpt(ForwardPath(bob), [])),
        ("rcpt to: <bob@example.org>", .rcpt(ForwardPath(bob), [])),
        ("RCPT TO:<Postmaster>", .rcpt(.postmaster, [])),
        ("RCPT TO:<postmaster>", .rcpt(.postmaster, [])),
        ("RCPT TO:<POSTMASTER>", .rcpt(.postmaster, [])),
        ("RCPT TO:<postmaster@example.org>", .rcpt(ForwardPath(Mailbox(localPart: "postmaster", domain: "example.org")), [])),
        ("RCPT TO:<@a.example,@b.example:bob@example.org>", .rcpt(ForwardPath(bob, hadSourceRoute: true), [])),
        (
            "RCPT TO:<bob@example.org> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;bob@example.org",
            .rcpt(
                ForwardPath(bob),
                [
                    ESMTPParameter(keyword: "NOTIFY", value: "SUCCESS,FAILURE"),
                    ESMTPParameter(keyword: "ORCPT", value: "rfc822;bob@example.org"),
                ])
        ),
        (#"RCPT TO:<"a b"@example.org>"#, .rcpt(ForwardPath(Mailbox(localPart: "a b", domain: "example.org")), [])),
        (#"RCPT TO:<"a\"b>"@example.org>"#, .rcpt(ForwardPath(Mailbox(localPart: #"a"b>"#, domain: "example.org")), [])),
        (
            "RCPT TO:<user%other.example@example.org>",
            .rcpt(ForwardPath(Mailbox(localPart: "user%other.example", domain: "example.org")), [])
        ),
        ("RCPT TO:<other!user@example.org>", .rcpt(ForwardPath(Mailbox(localPart: "other!user", domain: "example.org")), [])),
        ("RCPT TO:<bob@[192.0.2.1]>", .rcpt(ForwardPath(Mailbox(localPart: "bob", domain: "[192.0.2.1]")), [])),
        ("RCPT TO:<bob@[IPv6:2001:db8::1]>", .rcpt(ForwardPath(Mailbox(localPart: "bob", domain: "[IPv6:2001:db8::1]")), [])),
        ("RCPT TO:<用户@例子.广告>", .rcpt(ForwardPath(Mailbox(localPart: "用户", domain: "例子.广告")), [])),
        ("RCPT TO:<bob@Example.ORG.>", .rcpt(ForwardPath(Mailbox(localPart: "bob", domain: "Example.ORG.")), [])),
        ("DATA", .data),
        ("data ", .data),
        ("RSET", .rset),
        ("NOOP", .noop),
        ("NOOP ignored argument", .noop),
        ("QUIT", .quit),
        ("VRFY postmaster", .vrfy("postmaster")),
        ("HELP", .help(nil)),
        ("HELP MAIL", .help("MAIL")),
        ("STARTTLS", .startTLS),
        ("starttls", .startTLS),
        ("AUTH PLAIN", .auth(mechanism: "PLAIN", initialResponse: nil)),
        ("auth plain AGFsaWNlAHNlY3JldA==", .auth(mechanism: "PLAIN", initialResponse: "AGFsaWNlAHNlY3JldA==")),
        ("AUTH PLAIN =", .auth(mechanism: "PLAIN", initialResponse: "=")),
        ("AUTH login", .auth(mechanism: "LOGIN", initialResponse: nil)),
    ])
    func parses(line: String, expected: SMTPCommand) throws {
        #expect(try parse(line) == expected)
    }

    @Test func sourceRouteIsDroppedButReported() throws {
        guard case .rcpt(let path, _) = try parse("RCPT TO:<@a.example:bob@example.org>") else {
            Issue.record("not RCPT")
            return
        }
        #expect(path.hadSourceRoute)
        #expect(path.mailbox == Self.bob)
        #expect(path.description == "<bob@example.org>")
    }

    @Test func trailingDotDomainNormalizes() throws {
        guard case .rcpt(let path, _) = try parse("RCPT TO:<bob@Example.ORG.>") else {
            Issue.record("not RCPT")
            return
        }
        #expect(path.mailbox?.normalizedDomain == "example.org")
    }

    @Test func parsesFromBufferSlice() throws {
        // The framer hands out slices of a larger buffer.
        var buffer = ByteBuffer(string: "xxDATAyy")
        buffer.moveReaderIndex(forwardBy: 2)
        let slice = buffer.getSlice(at: buffer.readerIndex, length: 4)!
        #expect(try SMTPCommandParser.parse(slice) == .data)
    }
}
