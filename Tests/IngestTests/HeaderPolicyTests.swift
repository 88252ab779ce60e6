import NIOCore
import SMTPProtocol
import Testing

@testable import Ingest

/// The author-field check at the dot (issue 10, item 3), end to end over the header bytes:
/// each header form through `MessageAssembler` (as the session reads it) and
/// `HeaderPolicy`, with the reply a client of account `acme` (sending domain
/// `acme.example`) gets. nil: accepted.
struct HeaderPolicyTests {
    static let policy = SenderPolicy(accountName: "acme", allowedDomains: ["acme.example"])

    static func reply(to header: String) -> String? {
        var assembler = MessageAssembler(receivedHeader: "Received: by relay\r\n", generatedMessageID: "<g@relay>", wantsFrom: true)
        assembler.append(ByteBuffer(string: header + "\r\nbody\r\n"))
        assembler.finish()
        return HeaderPolicy.refusal(for: assembler.authors, policy: policy).map { reply in
            "\(reply.code) \(reply.enhancedStatus.map { "\($0)" } ?? "")"
        }
    }

    @Test(
        arguments: [
            // Accepted: one From in the account's domains, in every spelling.
            ("From: news@acme.example\r\n", nil),
            ("From: Acme News <news@Mail.Acme.Example.>\r\n", nil),  // subdomain, case, trailing dot
            ("FROM:news@acme.example\r\n", nil),
            ("From : news@acme.example\r\n", nil),  // RFC 5322 §4.5 obsolete: WSP before colon
            ("From:\r\n Acme\r\n <news@acme.example>\r\n", nil),  // folded
            ("From: =?utf-8?B?5pel5pys?= <news@acme.example>\r\n", nil),  // RFC 2047 display name
            ("From: \"ceo@bank.example\" <news@acme.example>\r\n", nil),  // quoted display name
            ("From: news@acme.example (ceo@bank.example)\r\n", nil),  // comment
            ("From: \"odd local\"@acme.example\r\n", nil),  // quoted local part
            ("From: a@acme.example, b@mail.acme.example\r\n", nil),  // several mailboxes, all ours
            ("From: team: a@acme.example, b@acme.example;\r\n", nil),  // RFC 6854 group
            ("From: news@acme.example\r\nSender: ops@acme.example\r\n", nil),
            ("Subject: x\r\n From: ceo@bank.example\r\nFrom: news@acme.example\r\n", nil),  // continuation of Subject
            // Not exactly one From (RFC 5322 §3.6): 550 5.6.0.
            ("Subject: no author\r\n", "550 5.6.0"),
            ("From: news@acme.example\r\nFrom: ceo@bank.example\r\n", "550 5.6.0"),  // the second From
            ("From: news@acme.example\r\nFrom: news@acme.example\r\n", "550 5.6.0"),
            ("From: news@acme.example\r\nFROM : ceo@bank.example\r\n", "550 5.6.0"),
            ("From: news@acme.example\r\nFrom\r\n : ceo@bank.example\r\n", "550 5.6.0"),  // colon folded onto the next line
            ("From: undisclosed:;\r\n", "550 5.6.0"),  // no address at all
            ("From: =?utf-8?Q?ceo=40bank.example?=\r\n", "550 5.6.0"),  // an "address" only inside an encoded word
            ("From: news@acme.example\r\nSender: a@acme.example\r\nSender: b@acme.example\r\n", "550 5.6.0"),
            // A foreign address anywhere: 550 5.7.1.
            ("From: ceo@bank.example\r\n", "550 5.7.1"),
            ("From : ceo@bank.example\r\n", "550 5.7.1"),
            ("From:\r\n\tNews\r\n <ceo@bank.example>\r\n", "550 5.7.1"),  // folded
            ("From: news@acme.example, ceo@bank.example\r\n", "550 5.7.1"),  // second mailbox
            ("From: group: news@acme.example, ceo@bank.example;\r\n", "550 5.7.1"),  // group member
            ("From: =?utf-8?Q?Acme_News?= <ceo@bank.example>\r\n", "550 5.7.1"),  // encoded-word display name
            ("From: =?utf-8?Q?news@acme.example?= <ceo@bank.example>\r\n", "550 5.7.1"),
            ("From: \"news@acme.example\" <ceo@bank.example>\r\n", "550 5.7.1"),  // display name dressed as ours
            ("From: \"news@acme.example\"@bank.example\r\n", "550 5.7.1"),  // quoted local part
            ("From: ceo@bank.example (news@acme.example)\r\n", "550 5.7.1"),  // comment dressed as ours
            ("From: <@acme.example:ceo@bank.example>\r\n", "550 5.7.1"),  // obsolete route (§4.4)
            ("From: news@acme.example.bank.example\r\n", "550 5.7.1"),  // ours as a prefix only
            ("From: news@notacme.example\r\n", "550 5.7.1"),
            ("From: news@[192.0.2.1]\r\n", "550 5.7.1"),  // domain literal
            ("From: news@acme.example\r\nSender: ceo@bank.example\r\n", "550 5.7.1"),  // Sender
            ("From: news@acme.example\r\nsender :\r\n ceo@bank.example\r\n", "550 5.7.1"),
        ] as [(String, String?)])
    func authorFields(header: String, expected: String?) {
        #expect(Self.reply(to: header) == expected)
    }

    /// Past `maxHeaderScan` the header section was not all read: a field beyond it would
    /// escape the check, so the message is refused rather than passed.
    @Test func aHeaderSectionTooLongToReadIsRefused() {
        let filler = String(
            repeating: "X-Filler: \(String(repeating: "x", count: 990))\r\n", count: MessageAssembler.maxHeaderScan / 1000 + 1)
        #expect(Self.reply(to: "From: news@acme.example\r\n" + filler + "From: ceo@bank.example\r\n") == "550 5.6.0")
    }

    /// No domain policy (`--any-sender`): nothing to check.
    @Test func anAccountWithoutDomainsIsNotChecked() {
        let fields = AuthorFields(from: ["a@x.example", "b@y.example"], sender: ["c@z.example"])
        #expect(HeaderPolicy.refusal(for: fields, policy: SenderPolicy(accountName: "any")) == nil)
    }
}
