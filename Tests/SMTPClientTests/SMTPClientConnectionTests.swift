import NIOCore
import NIOEmbedded
import NIOSSL
import SMTPProtocol
import Testing

@testable import SMTPClient

/// ``SMTPClientConnection`` on `NIOAsyncTestingChannel`: the test plays the server, reading
/// what the client wrote and writing replies back.
@Suite struct SMTPClientConnectionTests {
    static let remote = try! SocketAddress(ipAddress: "192.0.2.25", port: 25)

    func connection(timeout: TimeAmount = .seconds(30)) async throws -> (SMTPClientConnection, NIOAsyncTestingChannel) {
        let channel = NIOAsyncTestingChannel()
        try await channel.connect(to: Self.remote)
        return (try await SMTPClientConnection.wrapping(channel, remoteAddress: Self.remote, commandTimeout: timeout), channel)
    }

    func written(_ channel: NIOAsyncTestingChannel) async throws -> String {
        String(buffer: try await channel.waitForOutboundWrite(as: ByteBuffer.self))
    }

    @Test func greetingBeforeAnyoneWaits() async throws {
        let (connection, channel) = try await connection()
        // The greeting may arrive before the client asks for it: it is kept.
        try await channel.writeInbound(ByteBuffer(string: "220-mx.example.org ESMTP\r\n220 no UCE\r\n"))
        let greeting = try await connection.readReplies(1)
        #expect(greeting == [SMTPReply(code: 220, lines: ["mx.example.org ESMTP", "no UCE"])])
    }

    @Test func pipelinedCommandsGoInOneWriteAndRepliesComeInOrder() async throws {
        let (connection, channel) = try await connection()
        let mail = SMTPCommand.mail(.mailbox(Mailbox(localPart: "a", domain: "example.com")), MailParameters(size: 12))
        let rcpt = SMTPCommand.rcpt(ForwardPath(Mailbox(localPart: "b", domain: "example.org")), [])
        let replies = Task { try await connection.send([mail, rcpt, .data]) }
        #expect(try await written(channel) == "MAIL FROM:<a@example.com> SIZE=12\r\nRCPT TO:<b@example.org>\r\nDATA\r\n")
        // Split across reads, in the middle of a line and of a multiline reply.
        try await channel.writeInbound(ByteBuffer(string: "250 2.1.0 Ok\r\n550-5.1.1 no"))
        try await channel.writeInbound(ByteBuffer(string: " such user\r\n550 5.1.1 bye\r\n354 go\r\n"))
        #expect(
            try await replies.value == [
                SMTPReply(250, "2.1.0", "Ok"),
                SMTPReply(code: 550, enhancedStatus: EnhancedStatusCode(5, 1, 1), lines: ["no such user", "bye"]),
                SMTPReply(354, nil, "go"),
            ])
    }

    @Test func contentIsDotStuffedAndEnded() async throws {
        let (connection, channel) = try await connection()
        let reply = Task { try await connection.sendData(ByteBuffer(string: "Subject: x\r\n\r\n.hidden\r\nend\r\n")) }
        #expect(try await written(channel) == "Subject: x\r\n\r\n..hidden\r\nend\r\n.\r\n")
        try await channel.writeInbound(ByteBuffer(string: "250 2.0.0 queued\r\n"))
        #expect(try await reply.value.code == 250)
    }

    @Test func a421ThenCloseAnswersTheRestOfThePipelinedGroup() async throws {
        let (connection, channel) = try await connection()
        let replies = Task { try await connection.send([.rset, .noop, .quit]) }
        _ = try await written(channel)
        try await channel.writeInbound(ByteBuffer(string: "250 Ok\r\n421 4.3.2 shutting down\r\n"))
        try await channel.close()
        // RFC 5321 §3.8: the commands after the 421 were never processed and share its meaning.
        let closing = SMTPReply(421, "4.3.2", "shutting down")
        #expect(try await replies.value == [SMTPReply(250, nil, "Ok"), closing, closing])
    }

    @Test func aCloseWithoutReplyFailsTheWaiter() async throws {
        let (connection, channel) = try await connection()
        let reply = Task { try await connection.send(.noop) }
        _ = try await written(channel)
        try await channel.close()
        await #expect(throws: SMTPClientError.self) { try await reply.value }
    }

    @Test func aSilentServerTimesOut() async throws {
        let (connection, channel) = try await connection(timeout: .seconds(30))
        let reply = Task { try await connection.send(.noop) }
        _ = try await written(channel)
        await channel.testingEventLoop.advanceTime(by: .seconds(31))
        await #expect { try await reply.value } throws: { ($0 as? SMTPClientError)?.description.contains("timed out") == true }
        #expect(try await !channel.isActive)
    }

    @Test func aReplyInTimeIsNotTimedOut() async throws {
        let (connection, channel) = try await connection(timeout: .seconds(30))
        let first = Task { try await connection.send(.noop) }
        _ = try await written(channel)
        await channel.testingEventLoop.advanceTime(by: .seconds(20))
        try await channel.writeInbound(ByteBuffer(string: "250 Ok\r\n"))
        #expect(try await first.value.code == 250)
        let second = Task { try await connection.send(.noop) }
        _ = try await written(channel)
        await channel.testingEventLoop.advanceTime(by: .seconds(20))
        try await channel.writeInbound(ByteBuffer(string: "250 Ok\r\n"))
        #expect(try await second.value.code == 250)
    }

    @Test(arguments: ["HTTP/1.1 400 Bad Request\r\n", "250-a\r\n550 b\r\n", "2500 Ok\r\n", "999 x\r\n"])
    func garbageIsAProtocolErrorAndCloses(_ garbage: String) async throws {
        let (connection, channel) = try await connection()
        let reply = Task { try await connection.send(.noop) }
        _ = try await written(channel)
        try? await channel.writeInbound(ByteBuffer(string: garbage))
        await #expect(throws: (any Error).self) { try await reply.value }
        #expect(try await !channel.isActive)
    }

    @Test func aFloodOfUnsolicitedRepliesCloses() async throws {
        let (_, channel) = try await connection()
        try? await channel.writeInbound(
            ByteBuffer(string: String(repeating: "250 Ok\r\n", count: SMTPReplyHandler.maxUnclaimedReplies + 1)))
        #expect(try await !channel.isActive)
    }

    /// RFC 3207 §4.2 (the client-side analogue of CVE-2011-0411): a reply injected after the
    /// `220` to STARTTLS, in clear, must not answer the first command sent over TLS.
    @Test func bytesAfterThe220ToSTARTTLSAreRefused() async throws {
        let (connection, channel) = try await connection()
        let go = Task { try await connection.send(.startTLS) }
        #expect(try await written(channel) == "STARTTLS\r\n")
        try await channel.writeInbound(ByteBuffer(string: "220 2.0.0 go ahead\r\n550 5.1.1 injected\r\n"))
        #expect(try await go.value.code == 220)
        let context = try NIOSSLContext(configuration: .makeClientConfiguration())
        await #expect { try await connection.startTLS(serverHostname: "mx.example.org", context: context) } throws: {
            ($0 as? SMTPClientError)?.description.contains("RFC 3207") == true
        }
        #expect(try await !channel.isActive)
    }

    @Test func nothingBufferedLetsTheHandshakeStart() async throws {
        let (connection, channel) = try await connection()
        let go = Task { try await connection.send(.startTLS) }
        _ = try await written(channel)
        try await channel.writeInbound(ByteBuffer(string: "220 2.0.0 go ahead\r\n"))
        #expect(try await go.value.code == 220)
        let context = try NIOSSLContext(configuration: .makeClientConfiguration())
        try await connection.startTLS(serverHostname: "mx.example.org", context: context)
        // The TLS handler is first in the pipeline and starts with a ClientHello.
        let hello = try await channel.waitForOutboundWrite(as: ByteBuffer.self)
        #expect(hello.getInteger(at: hello.readerIndex, as: UInt8.self) == 0x16)
    }
}
