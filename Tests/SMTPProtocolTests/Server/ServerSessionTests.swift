import NIOCore
import SMTPProtocol
import Testing

@Suite("SMTPServerStateMachine: sessions and command sequencing")
struct ServerSessionTests {
    @Test func greeting() {
        var machine = SMTPServerStateMachine(configuration: Configs.allowListed(), isTLS: false)
        #expect(encoded(machine.greeting()) == "220 relay.example.net ESMTP Hikyaku\r\n")
    }

    @Test func completeTransaction() throws {
        var script = ServerScript(Configs.allowListed())
        let ehlo = script.send("EHLO client.example.com")
        #expect(
            encoded(try #require(ehlo.reply)) == """
                250-relay.example.net Hello client.example.com\r
                250-PIPELINING\r
                250-SIZE 1000\r
                250-8BITMIME\r
                250-SMTPUTF8\r
                250-ENHANCEDSTATUSCODES\r
                250 HELP\r

                """)
        script.run([
            ("MAIL FROM:<alice@example.com> SIZE=500 BODY=8BITMIME", .reply(250, "2.1.0")),
            ("RCPT TO:<bob@example.org>", .reply(250, "2.1.5")),
            ("RCPT TO:<carol@Example.NET>", .reply(250, "2.1.5")),
            ("DATA", .startData),
        ])
        #expect(script.machine.framerMode == .data)
        // Known before the content arrives, for the Received header.
        #expect(script.machine.protocolName == "ESMTP")
        #expect(script.machine.transactionReversePath == .mailbox(Mailbox(localPart: "alice", domain: "example.com")))
        #expect(script.machine.transactionRecipients.map(\.description) == ["<bob@example.org>", "<carol@Example.NET>"])

        let summary = DataSummary(size: 321, bareLineEndingsNormalized: 2)
        let enqueue = script.machine.dataEnded(summary)
        guard case .enqueue(let transaction) = enqueue else {
            Issue.record("expected enqueue, got \(enqueue)")
            return
        }
        #expect(
            transaction
                == SMTPTransaction(
                    reversePath: .mailbox(Mailbox(localPart: "alice", domain: "example.com")),
                    recipients: [
                        ForwardPath(Mailbox(localPart: "bob", domain: "example.org")),
                        ForwardPath(Mailbox(localPart: "carol", domain: "Example.NET")),
                    ],
                    parameters: MailParameters(size: 500, body: .eightBitMIME),
                    heloName: "client.example.com",
                    authenticatedUser: nil,
                    isTLS: false,
                    protocolName: "ESMTP",
                    dataSummary: summary))
        #expect(script.machine.framerMode == .command)
        #expect(script.machine.transactionRecipients.isEmpty)
        #expect(script.machine.transactionReversePath == nil)

        let queued = script.machine.messageQueued(.queued("01HQ3Z"))
        #expect(queued == .reply(SMTPReply(250, "2.0.0", "Ok: queued as 01HQ3Z")))
        #expect(encoded(try #require(queued.reply)) == "250 2.0.0 Ok: queued as 01HQ3Z\r\n")

        // A second transaction on the same connection, then QUIT.
        script.run([
            ("MAIL FROM:<>", .reply(250)),
            ("RCPT TO:<dave@example.org>", .reply(250)),
            ("DATA", .startData),
        ])
        script.check(script.machine.dataEnded(DataSummary(size: 10)), .enqueue)
        script.check(script.machine.messageQueued(.failed(.localError)), .reply(451, "4.3.0"))
        script.run([("QUIT", .close(221, "2.0.0"))])
        #expect(script.machine.isClosed)
    }

    @Test func heloGivesAPlainReplyAndNoExtensions() throws {
        var script = ServerScript(Configs.allowListed())
        let reply = try #require(script.send("HELO client").reply)
        #expect(encoded(reply) == "250 relay.example.net\r\n")
        script.run([
            ("MAIL FROM:<a@example.com> SIZE=10", .reply(555, "5.5.4")),
            ("MAIL FROM:<a@example.com> BODY=8BITMIME", .reply(555, "5.5.4")),
            ("MAIL FROM:<a@example.com>", .reply(250)),
            ("RCPT TO:<b@example.org>", .reply(250)),
            ("DATA", .startData),
        ])
        guard case .enqueue(let transaction) = script.machine.dataEnded(DataSummary(size: 1)) else {
            Issue.record("expected enqueue")
            return
        }
        #expect(transaction.protocolName == "SMTP")
        #expect(transaction.heloName == "client")
    }

    @Test func commandsOutOfSequence() {
        var script = ServerScript(Configs.allowListed())
        script.run([
            ("MAIL FROM:<a@example.com>", .reply(503, "5.5.1")),
            ("RCPT TO:<b@example.org>", .reply(503, "5.5.1")),
            ("DATA", .reply(503, "5.5.1")),
            ("EHLO client", .reply(250)),
            ("RCPT TO:<b@example.org>", .reply(503, "5.5.1")),
            ("DATA", .reply(503, "5.5.1")),
            ("MAIL FROM:<a@example.com>", .reply(250)),
            ("MAIL FROM:<a@example.com>", .reply(503, "5.5.1")),
            ("DATA", .reply(503, "5.5.1")),
            ("RCPT TO:<b@example.org>", .reply(250)),
            ("DATA", .startData),
        ])
    }

    @Test func rsetClearsTheTransaction() {
        var script = ServerScript(Configs.allowListed())
        script.run([
            ("RSET", .reply(250, "2.0.0")),
            ("EHLO client", .reply(250)),
            ("MAIL FROM:<a@example.com>", .reply(250)),
            ("RCPT TO:<b@example.org>", .reply(250)),
            ("RSET", .reply(250, "2.0.0")),
            ("RCPT TO:<b@example.org>", .reply(503, "5.5.1")),
            ("DATA", .reply(503, "5.5.1")),
            ("MAIL FROM:<a@example.com>", .reply(250)),
        ])
    }

    @Test func ehloResetsTheTransaction() {
        var script = ServerScript(Configs.allowListed())
        script.run([
            ("EHLO client", .reply(250)),
            ("MAIL FROM:<a@example.com>", .reply(250)),
            ("RCPT TO:<b@example.org>", .reply(250)),
            ("EHLO client", .reply(250)),
            ("DATA", .reply(503, "5.5.1")),
            ("RCPT TO:<b@example.org>", .reply(503, "5.5.1")),
            ("HELO client", .reply(250)),
            ("MAIL FROM:<a@example.com>", .reply(250)),
        ])
    }

    @Test func noopVrfyHelpAnyTime() {
        var script = ServerScript(Configs.allowListed())
        script.run([
            ("NOOP", .reply(250, "2.0.0")),
            ("VRFY bob", .reply(252, "2.1.5")),
            ("HELP", .reply(214, "2.0.0")),
            ("EHLO client", .reply(250)),
            ("MAIL FROM:<a@example.com>", .reply(250)),
            ("NOOP", .reply(250, "2.0.0")),
            ("VRFY bob", .reply(252, "2.1.5")),
            ("HELP MAIL", .reply(214, "2.0.0")),
            ("RCPT TO:<b@example.org>", .reply(250)),
            ("DATA", .startData),
        ])
    }

    @Test func quitClosesFromAnyCommandState() {
        var beforeHelo = ServerScript(Configs.allowListed())
        beforeHelo.run([("QUIT", .close(221, "2.0.0"))])
        var inTransaction = ServerScript(Configs.allowListed())
        inTransaction.run([
            ("EHLO client", .reply(250)),
            ("MAIL FROM:<a@example.com>", .reply(250)),
            ("QUIT", .close(221, "2.0.0")),
        ])
    }

    @Test func messageSizeLimits() {
        var script = ServerScript(Configs.allowListed())
        script.run([
            ("EHLO client", .reply(250)),
            ("MAIL FROM:<a@example.com> SIZE=1001", .reply(552, "5.3.4")),
            ("MAIL FROM:<a@example.com> SIZE=99999999999999999999999", .reply(501, "5.5.4")),
            ("MAIL FROM:<a@example.com> SIZE=1000", .reply(250)),
            ("RCPT TO:<b@example.org>", .reply(250)),
            ("DATA", .startData),
        ])
        // The declared size was a lie: the content is too large.
        script.check(script.machine.dataEnded(DataSummary(size: 1001)), .reply(552, "5.3.4"))
        // The transaction is gone.
        script.run([
            ("RCPT TO:<b@example.org>", .reply(503, "5.5.1")),
            ("MAIL FROM:<a@example.com>", .reply(250)),
            ("RCPT TO:<b@example.org>", .reply(250)),
            ("DATA", .startData),
        ])
        script.check(script.machine.dataEnded(DataSummary(size: 1000)), .enqueue)
    }

    @Test func smtpUTF8AddressesNeedTheParameter() {
        var script = ServerScript(Configs.allowListed())
        script.run([
            ("EHLO client", .reply(250)),
            ("MAIL FROM:<用户@例子.广告>", .reply(553, "5.6.7")),
            ("MAIL FROM:<a@example.com>", .reply(250)),
            ("RCPT TO:<用户@例子.广告>", .reply(553, "5.6.7")),
            ("RSET", .reply(250)),
            ("MAIL FROM:<用户@例子.广告> SMTPUTF8", .reply(250)),
            ("RCPT TO:<收件人@例子.广告>", .reply(250)),
            ("DATA", .startData),
        ])
        guard case .enqueue(let transaction) = script.machine.dataEnded(DataSummary(size: 1)) else {
            Issue.record("expected enqueue")
            return
        }
        #expect(transaction.parameters.smtpUTF8)
        #expect(transaction.protocolName == "UTF8SMTP")
    }

    @Test func parametersOnlyAsAdvertised() {
        var script = ServerScript(Configs.allowListed())
        script.run([
            ("EHLO client", .reply(250)),
            ("MAIL FROM:<a@example.com> RET=HDRS", .reply(555, "5.5.4")),
            ("MAIL FROM:<a@example.com> REQUIRETLS", .reply(555, "5.5.4")),
            // AUTH is not offered on this listener.
            ("MAIL FROM:<a@example.com> AUTH=<>", .reply(555, "5.5.4")),
            ("MAIL FROM:<a@example.com> FOO=BAR", .reply(555, "5.5.4")),
            ("MAIL FROM:<a@example.com> BODY=7BIT SMTPUTF8", .reply(250)),
            ("RCPT TO:<b@example.org> NOTIFY=NEVER", .reply(555, "5.5.4")),
            ("RCPT TO:<b@example.org>", .reply(250)),
        ])
    }

    @Test func allRecipientsRefusedThenDATA() {
        var script = ServerScript(Configs.stranger())
        script.run([
            ("EHLO client", .reply(250)),
            ("MAIL FROM:<a@example.com>", .reply(250)),
            ("RCPT TO:<b@example.org>", .reply(550, "5.7.1")),
            ("RCPT TO:<c@example.org>", .reply(550, "5.7.1")),
            ("DATA", .reply(554, "5.5.1")),
            ("RSET", .reply(250)),
        ])
    }

    @Test func tooManyRecipients() {
        var script = ServerScript(Configs.allowListed { $0.maxRecipients = 3 })
        script.run([
            ("EHLO client", .reply(250)),
            ("MAIL FROM:<a@example.com>", .reply(250)),
            ("RCPT TO:<r1@example.org>", .reply(250)),
            ("RCPT TO:<r2@example.org>", .reply(250)),
            ("RCPT TO:<r3@example.org>", .reply(250)),
            ("RCPT TO:<r4@example.org>", .reply(452, "4.5.3")),
            ("RCPT TO:<r5@example.org>", .reply(452, "4.5.3")),
            ("DATA", .startData),
        ])
        guard case .enqueue(let transaction) = script.machine.dataEnded(DataSummary(size: 1)) else {
            Issue.record("expected enqueue")
            return
        }
        #expect(transaction.recipients.map { $0.mailbox?.localPart } == ["r1", "r2", "r3"])
    }

    @Test func duplicateRecipientsAreKeptOnce() {
        var script = ServerScript(Configs.allowListed())
        script.run([
            ("EHLO client", .reply(250)),
            ("MAIL FROM:<a@example.com>", .reply(250)),
            ("RCPT TO:<b@example.org>", .reply(250)),
            ("RCPT TO:<b@EXAMPLE.org.>", .reply(250)),
            ("RCPT TO:<B@example.org>", .reply(250)),
            ("DATA", .startData),
        ])
        guard case .enqueue(let transaction) = script.machine.dataEnded(DataSummary(size: 1)) else {
            Issue.record("expected enqueue")
            return
        }
        // Local parts are case-sensitive (RFC 5321 §2.4); domains are not.
        #expect(transaction.recipients.map { $0.description } == ["<b@example.org>", "<B@example.org>"])
    }
}
