import NIOCore
import SMTPProtocol
import Testing

@Suite("SMTPServerStateMachine: relay policy")
struct ServerRelayPolicyTests {
    static let tricks = [
        "RCPT TO:<victim@example.org>",
        "RCPT TO:<victim%example.org@relay.example.net>",
        "RCPT TO:<example.org!victim@relay.example.net>",
        "RCPT TO:<@relay.example.net:victim@example.org>",
        "RCPT TO:<victim@[192.0.2.1]>",
        "RCPT TO:<\"victim@example.org\"@relay.example.net>",
        "RCPT TO:<victim@relay.example.net>",
    ]

    @Test(arguments: tricks)
    func strangerIsRefusedOnTheRelayListener(line: String) {
        var script = ServerScript(Configs.stranger())
        script.run([
            ("EHLO client", .reply(250)),
            ("MAIL FROM:<a@example.com>", .reply(250)),
            (line, .reply(550, "5.7.1")),
            ("DATA", .reply(554, "5.5.1")),
        ])
    }

    @Test(arguments: tricks)
    func unauthenticatedClientIsAskedToAuthenticateOnSubmission(line: String) {
        var script = ServerScript(Configs.submission(), isTLS: true)
        script.run([
            ("EHLO client", .reply(250)),
            ("MAIL FROM:<a@example.com>", .reply(250)),
            (line, .reply(530, "5.7.0")),
        ])
    }

    @Test func allowListedClientRelays() {
        var script = ServerScript(Configs.allowListed())
        script.run([
            ("EHLO client", .reply(250)),
            ("MAIL FROM:<a@example.com>", .reply(250)),
            ("RCPT TO:<b@example.org>", .reply(250, "2.1.5")),
            ("RCPT TO:<b%c@example.org>", .reply(250, "2.1.5")),
        ])
    }

    @Test func addressLiteralsAreNotRelayedEvenWhenPermitted() {
        var script = ServerScript(Configs.allowListed())
        script.run([
            ("EHLO client", .reply(250)),
            ("MAIL FROM:<a@example.com>", .reply(250)),
            ("RCPT TO:<b@[192.0.2.1]>", .reply(550, "5.1.2")),
            ("RCPT TO:<b@[IPv6:2001:db8::1]>", .reply(550, "5.1.2")),
            ("DATA", .reply(554, "5.5.1")),
        ])
    }

    @Test func postmasterWithoutDomainIsRefused() {
        for configuration in [Configs.allowListed(), Configs.stranger()] {
            var script = ServerScript(configuration)
            script.run([
                ("EHLO client", .reply(250)),
                ("MAIL FROM:<a@example.com>", .reply(250)),
                ("RCPT TO:<Postmaster>", .reply(550, "5.1.1")),
            ])
        }
    }

    @Test func sourceRouteIsDroppedAndVisibleToPolicy() {
        var script = ServerScript(Configs.allowListed())
        script.run([
            ("EHLO client", .reply(250)),
            ("MAIL FROM:<a@example.com>", .reply(250)),
            ("RCPT TO:<@hop.example:b@example.org>", .reply(250)),
            ("DATA", .startData),
        ])
        guard case .enqueue(let transaction) = script.machine.dataEnded(DataSummary(size: 1)) else {
            Issue.record("expected enqueue")
            return
        }
        #expect(transaction.recipients.count == 1)
        #expect(transaction.recipients[0].hadSourceRoute)
        #expect(transaction.recipients[0].mailbox == Mailbox(localPart: "b", domain: "example.org"))
    }

    @Test func refusalsAreNotCountedAsBadCommands() {
        // A client refused 20 times is not disconnected for "errors".
        var script = ServerScript(Configs.stranger())
        script.run([("EHLO client", .reply(250)), ("MAIL FROM:<a@example.com>", .reply(250))])
        for index in 0..<20 {
            script.run([("RCPT TO:<r\(index)@example.org>", .reply(550, "5.7.1"))])
        }
    }
}
