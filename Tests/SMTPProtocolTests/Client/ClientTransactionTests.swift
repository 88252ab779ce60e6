import SMTPProtocol
import Testing

/// Mail transactions, pipelined (RFC 2920) and one command at a time (RFC 5321 §3.3),
/// against well-behaved and hostile servers.
@Suite struct ClientTransactionTests {
    struct Case: CustomTestStringConvertible, Sendable {
        var name: String
        var pipelining = true
        var recipients = 2
        var script: [String: [SMTPReply]]
        var sent: [String]
        /// Per recipient: the deciding reply's code and stage; nil when the session fails.
        var outcome: [(Int, SMTPRecipientOutcome.Stage)]?
        var usable = true
        var testDescription: String { name }
    }

    static let ok = [
        "MAIL": [reply("250 2.1.0 Ok")], "RCPT": [reply("250 2.1.5 Ok")], "DATA": [reply("354 go")],
        "BODY": [reply("250 2.0.0 queued")], "RSET": [reply("250 2.0.0 Ok")],
    ]

    static func script(_ changes: [String: [SMTPReply]]) -> [String: [SMTPReply]] {
        ok.merging(changes) { $1 }
    }

    static let pipelined: [Case] = [
        Case(
            name: "all accepted", script: ok, sent: ["MAIL", "RCPT", "RCPT", "DATA", "BODY"],
            outcome: [(250, .endOfData), (250, .endOfData)]),
        Case(
            name: "one recipient refused", script: script(["RCPT": [reply("250 Ok"), reply("550 5.1.1 no such user")]]),
            sent: ["MAIL", "RCPT", "RCPT", "DATA", "BODY"], outcome: [(250, .endOfData), (550, .recipient)]),
        Case(
            name: "MAIL refused",
            script: script([
                "MAIL": [reply("550 5.7.1 sender refused")], "RCPT": [reply("503 5.5.1 no MAIL")],
                "DATA": [reply("503 5.5.1 no valid recipients")],
            ]),
            sent: ["MAIL", "RCPT", "RCPT", "DATA", "RSET"], outcome: [(550, .mail), (550, .mail)]),
        Case(
            name: "MAIL refused but DATA started anyway", script: script(["MAIL": [reply("451 4.3.0 later")], "RCPT": [reply("503 no")]]),
            sent: ["MAIL", "RCPT", "RCPT", "DATA", "EMPTY", "RSET"], outcome: [(451, .mail), (451, .mail)]),
        Case(
            name: "every RCPT refused, DATA refused",
            script: script(["RCPT": [reply("550 5.1.1 no")], "DATA": [reply("554 5.5.1 no recipients")]]),
            sent: ["MAIL", "RCPT", "RCPT", "DATA", "RSET"], outcome: [(550, .recipient), (550, .recipient)]),
        Case(
            name: "every RCPT refused, DATA started anyway", script: script(["RCPT": [reply("550 5.1.1 no")]]),
            sent: ["MAIL", "RCPT", "RCPT", "DATA", "EMPTY"], outcome: [(550, .recipient), (550, .recipient)]),
        Case(
            name: "DATA refused: it applies to the accepted",
            script: script([
                "RCPT": [reply("250 Ok"), reply("450 4.2.1 full")],
                "DATA": [reply("451 4.3.0 try later")],
            ]),
            sent: ["MAIL", "RCPT", "RCPT", "DATA", "RSET"], outcome: [(451, .data), (450, .recipient)]),
        Case(
            name: "end of data refused", script: script(["BODY": [reply("552 5.3.4 too big")]]),
            sent: ["MAIL", "RCPT", "RCPT", "DATA", "BODY"], outcome: [(552, .endOfData), (552, .endOfData)]),
        Case(
            name: "421 to MAIL", script: script(["MAIL": [reply("421 4.3.2 shutting down")]]),
            sent: ["MAIL", "RCPT", "RCPT", "DATA"], outcome: [(421, .mail), (421, .mail)], usable: false),
        Case(
            name: "421 to the second RCPT", recipients: 3, script: script(["RCPT": [reply("250 Ok"), reply("421 4.7.0 too many")]]),
            sent: ["MAIL", "RCPT", "RCPT", "RCPT", "DATA"], outcome: [(421, .data), (421, .recipient), (421, .recipient)], usable: false),
        Case(
            name: "421 to DATA", script: script(["DATA": [reply("421 4.3.2 bye")]]),
            sent: ["MAIL", "RCPT", "RCPT", "DATA"], outcome: [(421, .data), (421, .data)], usable: false),
        Case(
            name: "421 to the end of data", script: script(["BODY": [reply("421 4.4.2 timeout")]]),
            sent: ["MAIL", "RCPT", "RCPT", "DATA", "BODY"], outcome: [(421, .endOfData), (421, .endOfData)], usable: false),
        Case(
            name: "421 to RSET after a refusal",
            script: script(["MAIL": [reply("550 no")], "DATA": [reply("503 no")], "RSET": [reply("421 bye")]]),
            sent: ["MAIL", "RCPT", "RCPT", "DATA", "RSET"], outcome: [(550, .mail), (550, .mail)], usable: false),
        Case(
            name: "354 to RCPT", script: script(["RCPT": [reply("354 what")]]),
            sent: ["MAIL", "RCPT", "RCPT", "DATA"], outcome: nil, usable: false),
        Case(
            name: "250 to DATA", script: script(["DATA": [reply("250 sure")]]),
            sent: ["MAIL", "RCPT", "RCPT", "DATA"], outcome: nil, usable: false),
        Case(
            name: "354 to the end of data", script: script(["BODY": [reply("354 more")]]),
            sent: ["MAIL", "RCPT", "RCPT", "DATA", "BODY"], outcome: nil, usable: false),
        Case(
            name: "multiline refusal keeps its lines", recipients: 1,
            script: script(["RCPT": [reply("550-5.1.1 no such user|550 5.1.1 see https://example.org")], "DATA": [reply("554 no")]]),
            sent: ["MAIL", "RCPT", "DATA", "RSET"], outcome: [(550, .recipient)]),
    ]

    static let oneAtATime: [Case] = [
        Case(
            name: "all accepted", pipelining: false, script: ok, sent: ["MAIL", "RCPT", "RCPT", "DATA", "BODY"],
            outcome: [(250, .endOfData), (250, .endOfData)]),
        Case(
            name: "MAIL refused: no RCPT", pipelining: false, script: script(["MAIL": [reply("553 5.1.8 bad sender")]]),
            sent: ["MAIL", "RSET"], outcome: [(553, .mail), (553, .mail)]),
        Case(
            name: "every RCPT refused: no DATA", pipelining: false, script: script(["RCPT": [reply("550 no")]]),
            sent: ["MAIL", "RCPT", "RCPT", "RSET"], outcome: [(550, .recipient), (550, .recipient)]),
        Case(
            name: "first refused, second accepted", pipelining: false,
            script: script(["RCPT": [reply("450 4.2.0 greylisted"), reply("250 Ok")]]),
            sent: ["MAIL", "RCPT", "RCPT", "DATA", "BODY"], outcome: [(450, .recipient), (250, .endOfData)]),
        Case(
            name: "DATA refused", pipelining: false, script: script(["DATA": [reply("554 5.7.0 no")]]),
            sent: ["MAIL", "RCPT", "RCPT", "DATA", "RSET"], outcome: [(554, .data), (554, .data)]),
        Case(
            name: "421 to the first RCPT: nothing more is sent", pipelining: false, recipients: 3,
            script: script(["RCPT": [reply("421 4.7.0 bye")]]),
            sent: ["MAIL", "RCPT"], outcome: [(421, .recipient), (421, .recipient), (421, .recipient)], usable: false),
        Case(
            name: "421 to MAIL", pipelining: false, script: script(["MAIL": [reply("421 bye")]]),
            sent: ["MAIL"], outcome: [(421, .mail), (421, .mail)], usable: false),
        Case(
            name: "354 to MAIL", pipelining: false, script: script(["MAIL": [reply("354 eh")]]),
            sent: ["MAIL"], outcome: nil, usable: false),
    ]

    static func readyMachine(_ keywords: String...) -> SMTPClientStateMachine {
        var machine = SMTPClientStateMachine(configuration: .init(heloName: "relay"))
        _ = machine.receive(reply("220 mx"))
        let ehlo = SMTPReply(code: 250, lines: ["mx"] + keywords)
        precondition(machine.receive(ehlo) == .ready(SMTPCapabilities(ehloReply: ehlo)))
        return machine
    }

    @Test(arguments: pipelined + oneAtATime)
    func transaction(_ test: Case) {
        var machine = test.pipelining ? Self.readyMachine("PIPELINING") : Self.readyMachine()
        let recipients = (1...test.recipients).map { path("r\($0)@example.org") }
        var server = ScriptedServer(test.script)
        let begun = machine.beginTransaction(from: sender, to: recipients, size: 10)
        let action = server.drive(&machine, begun)
        #expect(server.sent == test.sent)
        #expect(machine.isUsable == test.usable)
        #expect(machine.isReady == test.usable)
        guard let expected = test.outcome else {
            guard case .fail(.unexpectedReply, quit: false) = action else {
                Issue.record("expected a protocol error, got \(action)")
                return
            }
            return
        }
        guard case .transactionComplete(let outcome) = action else {
            Issue.record("expected an outcome, got \(action)")
            return
        }
        #expect(outcome.recipients.map(\.recipient) == recipients)
        #expect(outcome.recipients.map(\.reply.code) == expected.map(\.0))
        #expect(outcome.recipients.map(\.stage) == expected.map(\.1))
    }

    @Test func theDecidingReplyIsKeptWhole() {
        var machine = Self.readyMachine("PIPELINING")
        var server = ScriptedServer(Self.script(["RCPT": [reply("250 Ok"), reply("550-5.1.1 no such user|550 5.1.1 see the FAQ")]]))
        let begun = machine.beginTransaction(from: sender, to: [path("a@example.org"), path("b@example.org")], size: 1)
        let action = server.drive(&machine, begun)
        guard case .transactionComplete(let outcome) = action else {
            Issue.record("\(action)")
            return
        }
        #expect(
            outcome.recipients[1].reply
                == SMTPReply(code: 550, enhancedStatus: EnhancedStatusCode(5, 1, 1), lines: ["no such user", "see the FAQ"]))
        #expect(outcome.recipients[0].isDelivered && !outcome.recipients[1].isDelivered)
        #expect(outcome.failureReplies == [outcome.recipients[1].reply])
    }

    @Test func mailParametersFollowTheOfferedExtensions() {
        let utf8 = path("ユーザー@example.org")
        var plain = Self.readyMachine("PIPELINING")
        #expect(
            plain.beginTransaction(from: sender, to: [utf8], size: 42)
                == .send([.mail(sender, MailParameters()), .rcpt(utf8, []), .data]))
        var rich = Self.readyMachine("SIZE 1000", "8BITMIME", "SMTPUTF8")
        // RFC 1870 §6 SIZE, RFC 6152 §2 BODY=8BITMIME, RFC 6531 §3.4 SMTPUTF8 (the address needs it).
        #expect(
            rich.beginTransaction(from: sender, to: [utf8], size: 42)
                == .send([.mail(sender, MailParameters(size: 42, body: .eightBitMIME, smtpUTF8: true))]))
        var ascii = Self.readyMachine("SMTPUTF8")
        #expect(ascii.beginTransaction(from: .null, to: [path("b@example.org")], size: 42) == .send([.mail(.null, MailParameters())]))
    }

    @Test func transactionsFollowEachOtherOnOneConnection() {
        var machine = Self.readyMachine("PIPELINING")
        var server = ScriptedServer(
            Self.script(["MAIL": [reply("550 no"), reply("250 Ok")], "DATA": [reply("503 no"), reply("354 go")]]))
        let begun = machine.beginTransaction(from: sender, to: [path("a@example.org")], size: 1)
        let first = server.drive(&machine, begun)
        guard case .transactionComplete(let refused) = first else {
            Issue.record("\(first)")
            return
        }
        #expect(refused.recipients.map(\.stage) == [.mail])
        #expect(machine.isReady)
        let begunAgain = machine.beginTransaction(from: sender, to: [path("b@example.org")], size: 1)
        let second = server.drive(&machine, begunAgain)
        guard case .transactionComplete(let delivered) = second else {
            Issue.record("\(second)")
            return
        }
        #expect(delivered.recipients.allSatisfy { $0.isDelivered })
        #expect(server.sent == ["MAIL", "RCPT", "DATA", "RSET", "MAIL", "RCPT", "DATA", "BODY"])
    }

    @Test func noTransactionOnAClosedSession() {
        var machine = Self.readyMachine()
        var server = ScriptedServer(Self.script(["MAIL": [reply("421 4.3.2 bye")]]))
        let begun = machine.beginTransaction(from: sender, to: [path("a@example.org")], size: 1)
        _ = server.drive(&machine, begun)
        #expect(machine.beginTransaction(from: sender, to: [path("b@example.org")], size: 1) == .fail(.notReady, quit: false))
    }

    @Test func noRecipientsNoCommands() {
        var machine = Self.readyMachine("PIPELINING")
        #expect(machine.beginTransaction(from: sender, to: [], size: 1) == .transactionComplete(SMTPTransactionOutcome(recipients: [])))
        #expect(machine.isReady)
    }

    @Test func aLostRSETStillYieldsTheOutcome() {
        var machine = Self.readyMachine()
        _ = machine.beginTransaction(from: sender, to: [path("a@example.org")], size: 1)
        #expect(machine.receive(reply("550 5.7.1 no")) == .send([.rset]))
        guard case .transactionComplete(let outcome)? = machine.connectionFailed() else {
            Issue.record("no outcome")
            return
        }
        #expect(outcome.recipients.map(\.reply.code) == [550])
    }

    @Test func aLostConnectionMidTransactionHasNoOutcome() {
        var machine = Self.readyMachine()
        _ = machine.beginTransaction(from: sender, to: [path("a@example.org")], size: 1)
        #expect(machine.receive(reply("250 Ok")) == .send([.rcpt(path("a@example.org"), [])]))
        #expect(machine.connectionFailed() == nil)
        #expect(!machine.isUsable)
    }
}
