import NIOCore
import NIOEmbedded
import SMTPProtocol
import Testing

@testable import SMTPClient

/// ``SMTPClientConnection/perform(_:body:on:)``: the state machine's actions carried out on
/// `NIOAsyncTestingChannel`, the test answering as the server.
@Suite struct StateMachineDrivingTests {
    static let remote = try! SocketAddress(ipAddress: "192.0.2.25", port: 25)

    /// Answers each write the client makes with the next canned reply bytes, recording the writes.
    static func serve(_ channel: NIOAsyncTestingChannel, _ answers: [String]) async throws -> [String] {
        var writes: [String] = []
        for answer in answers {
            writes.append(String(buffer: try await channel.waitForOutboundWrite(as: ByteBuffer.self)))
            if answer == "<close>" {
                try await channel.close()
                break
            }
            try await channel.writeInbound(ByteBuffer(string: answer))
        }
        return writes
    }

    @Test func aWholeSessionWithPipelining() async throws {
        let channel = NIOAsyncTestingChannel()
        try await channel.connect(to: Self.remote)
        let connection = try await SMTPClientConnection.wrapping(channel, remoteAddress: Self.remote, commandTimeout: .seconds(30))
        try await channel.writeInbound(ByteBuffer(string: "220 mx ESMTP\r\n"))
        async let writes = Self.serve(
            channel,
            [
                "250-mx\r\n250-PIPELINING\r\n250 8BITMIME\r\n",
                "250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n550 5.1.1 no\r\n354 go\r\n",
                "250 2.0.0 queued\r\n",
                "221 2.0.0 bye\r\n",
            ])
        var machine = SMTPClientStateMachine(configuration: .init(heloName: "relay"))
        var action = try await connection.perform(.awaitReply, on: &machine)
        action = try await connection.perform(action, on: &machine)
        #expect(action == .ready(machine.capabilities))
        let from = ReversePath.mailbox(Mailbox(localPart: "a", domain: "example.com"))
        let to = [ForwardPath(Mailbox(localPart: "b", domain: "example.org")), ForwardPath(Mailbox(localPart: "c", domain: "example.org"))]
        action = machine.beginTransaction(from: from, to: to, size: 3)
        let body = ByteBuffer(string: "hi\r\n")
        while case .send = action { action = try await connection.perform(action, body: body, on: &machine) }
        #expect(action == .sendBody(then: []))
        action = try await connection.perform(action, body: body, on: &machine)
        guard case .transactionComplete(let outcome) = action else {
            Issue.record("\(action)")
            return
        }
        #expect(outcome.recipients.map(\.reply.code) == [250, 550])
        action = try await connection.perform(machine.quit(), on: &machine)
        #expect(action == .close)
        #expect(
            try await writes == [
                "EHLO relay\r\n",
                "MAIL FROM:<a@example.com> BODY=8BITMIME\r\nRCPT TO:<b@example.org>\r\nRCPT TO:<c@example.org>\r\nDATA\r\n",
                "hi\r\n.\r\n",
                "QUIT\r\n",
            ])
    }

    @Test func aLostRSETStillGivesTheOutcome() async throws {
        let channel = NIOAsyncTestingChannel()
        try await channel.connect(to: Self.remote)
        let connection = try await SMTPClientConnection.wrapping(channel, remoteAddress: Self.remote, commandTimeout: .seconds(30))
        try await channel.writeInbound(ByteBuffer(string: "220 mx\r\n"))
        async let writes = Self.serve(channel, ["250 mx\r\n", "550 5.7.1 not you\r\n", "<close>"])
        var machine = SMTPClientStateMachine(configuration: .init(heloName: "relay"))
        _ = try await connection.perform(connection.perform(.awaitReply, on: &machine), on: &machine)
        var action = machine.beginTransaction(from: .null, to: [ForwardPath(Mailbox(localPart: "b", domain: "example.org"))], size: 1)
        action = try await connection.perform(action, on: &machine)
        #expect(action == .send([.rset]))
        action = try await connection.perform(action, on: &machine)
        guard case .transactionComplete(let outcome) = action else {
            Issue.record("\(action)")
            return
        }
        #expect(outcome.recipients.map(\.stage) == [.mail])
        #expect(try await writes.count == 3)
        // The connection is gone: the next transaction fails at its first write.
        await #expect(throws: (any Error).self) { _ = try await connection.perform(.send([.noop]), on: &machine) }
        #expect(!machine.isUsable)
    }
}
