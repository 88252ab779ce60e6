import SMTPProtocol
import Testing

/// The next transaction's envelope sent after a content, in the same write (RFC 2920 §3.1:
/// message content may be the first command of a pipelined group).
@Suite struct ClientChainingTests {
    static let a = [path("a@example.org")]
    static let bc = [path("b@example.org"), path("c@example.org")]

    /// Begins `first` with `second` chained after its content, and drives it to its outcome.
    static func firstOfTwo(
        _ machine: inout SMTPClientStateMachine, _ server: inout ScriptedServer
    ) -> SMTPClientAction {
        let begun = machine.beginTransaction(from: sender, to: a, size: 10)
        machine.chainNextTransaction(from: sender, to: bc, size: 20)
        return server.drive(&machine, begun)
    }

    @Test func theNextEnvelopeFollowsTheContentAndItsRepliesAreReadWhenItIsBegun() {
        var machine = ClientTransactionTests.readyMachine("PIPELINING", "SIZE 1000")
        var server = ScriptedServer(ClientTransactionTests.ok)
        let first = Self.firstOfTwo(&machine, &server)
        guard case .transactionComplete(let delivered) = first else {
            Issue.record("\(first)")
            return
        }
        #expect(delivered.recipients.map(\.reply.code) == [250])
        #expect(server.sent == ["MAIL", "RCPT", "DATA", "BODY", "MAIL", "RCPT", "RCPT", "DATA"])
        // Between the two, the session is neither ready nor to be quit politely.
        #expect(!machine.isReady && machine.isUsable)
        // Begun: only its four replies are read (all at once), then its content goes.
        #expect(machine.beginTransaction(from: sender, to: Self.bc, size: 20) == .awaitReply)
        #expect(machine.expectedReplies == 4)
        let second = server.drive(&machine, .awaitReply)
        guard case .transactionComplete(let both) = second else {
            Issue.record("\(second)")
            return
        }
        #expect(both.recipients.map(\.reply.code) == [250, 250])
        #expect(server.sent.suffix(1) == ["BODY"])
        #expect(machine.isReady)
    }

    @Test func theChainedMAILDeclaresItsOwnSize() {
        var machine = ClientTransactionTests.readyMachine("PIPELINING", "SIZE 1000")
        _ = machine.beginTransaction(from: sender, to: Self.a, size: 10)
        machine.chainNextTransaction(from: sender, to: Self.bc, size: 20)
        _ = machine.receive(reply("250 Ok"))
        _ = machine.receive(reply("250 Ok"))
        #expect(
            machine.receive(reply("354 go"))
                == .sendBody(then: [
                    .mail(sender, MailParameters(size: 20)), .rcpt(Self.bc[0], []), .rcpt(Self.bc[1], []), .data,
                ]))
    }

    @Test func withoutPipeliningNothingIsChained() {
        var machine = ClientTransactionTests.readyMachine()
        var server = ScriptedServer(ClientTransactionTests.ok)
        _ = Self.firstOfTwo(&machine, &server)
        #expect(server.sent == ["MAIL", "RCPT", "DATA", "BODY"])
        #expect(machine.isReady)
        // Begun as usual.
        #expect(machine.beginTransaction(from: sender, to: Self.bc, size: 20) == .send([.mail(sender, MailParameters())]))
    }

    @Test func aFailedEnvelopeSendsNoContentAndSoChainsNothing() {
        var machine = ClientTransactionTests.readyMachine("PIPELINING")
        var server = ScriptedServer(ClientTransactionTests.script(["DATA": [reply("451 4.3.0 later"), reply("354 go")]]))
        _ = Self.firstOfTwo(&machine, &server)
        #expect(server.sent == ["MAIL", "RCPT", "DATA", "RSET"])
        #expect(machine.isReady)
        #expect(
            machine.beginTransaction(from: sender, to: Self.bc, size: 20)
                == .send([.mail(sender, MailParameters()), .rcpt(Self.bc[0], []), .rcpt(Self.bc[1], []), .data]))
    }

    @Test func a421ToTheContentEndsTheSessionAndTheChainedOneIsNotBegun() {
        var machine = ClientTransactionTests.readyMachine("PIPELINING")
        var server = ScriptedServer(ClientTransactionTests.script(["BODY": [reply("421 4.3.2 closing")]]))
        let first = Self.firstOfTwo(&machine, &server)
        guard case .transactionComplete(let outcome) = first else {
            Issue.record("\(first)")
            return
        }
        #expect(outcome.recipients.map(\.reply.code) == [421])
        #expect(!machine.isUsable)
        #expect(machine.beginTransaction(from: sender, to: Self.bc, size: 20) == .fail(.notReady, quit: false))
    }

    @Test func aRefusedContentLeavesTheChainedTransactionGoingOn() {
        var machine = ClientTransactionTests.readyMachine("PIPELINING")
        var server = ScriptedServer(ClientTransactionTests.script(["BODY": [reply("554 5.7.1 spam"), reply("250 queued")]]))
        let first = Self.firstOfTwo(&machine, &server)
        guard case .transactionComplete(let outcome) = first else {
            Issue.record("\(first)")
            return
        }
        #expect(outcome.recipients.map(\.reply.code) == [554])
        #expect(machine.beginTransaction(from: sender, to: Self.bc, size: 20) == .awaitReply)
        guard case .transactionComplete(let second) = server.drive(&machine, .awaitReply) else {
            Issue.record("no outcome for the chained transaction")
            return
        }
        #expect(second.recipients.map(\.reply.code) == [250, 250])
    }

    @Test func quittingWithAChainedEnvelopeOutClosesWithoutQUIT() {
        var machine = ClientTransactionTests.readyMachine("PIPELINING")
        var server = ScriptedServer(ClientTransactionTests.ok)
        _ = Self.firstOfTwo(&machine, &server)
        // The server may be reading content after its 354: QUIT would be content.
        #expect(machine.quit() == .close)
        #expect(!machine.isUsable)
    }

    @Test func aLostConnectionBeforeTheChainedRepliesHasNoOutcome() {
        var machine = ClientTransactionTests.readyMachine("PIPELINING")
        var server = ScriptedServer(ClientTransactionTests.ok)
        _ = Self.firstOfTwo(&machine, &server)
        #expect(machine.beginTransaction(from: sender, to: Self.bc, size: 20) == .awaitReply)
        #expect(machine.connectionFailed() == nil)
        #expect(!machine.isUsable)
    }
}
