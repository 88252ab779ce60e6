import NIOCore
import NIOEmbedded
import SMTPProtocol
import SMTPServer
import Testing

/// A session that answers each line with `250 <line>`, and a few commands specially:
/// `SLOW` holds input for a second, `DATA` switches to data mode, `STARTTLS` starts TLS
/// (without a context: only the guard is exercised), `QUIT` closes.
private final class ScriptSession: SMTPServerSession {
    var closeReasons: [String] = []
    var received: [String] = []
    var ended = false

    func sessionStarted(on server: SMTPServerHandler) {
        server.write(SMTPReply(code: 220, lines: ["test ESMTP"]))
    }

    func receive(_ frame: SMTPFrame, on server: SMTPServerHandler) {
        switch frame {
        case .line(let line):
            let text = String(buffer: line)
            received.append(text)
            switch text {
            case "SLOW":
                server.hold(for: .seconds(1)) { server in server.write(SMTPReply(250, "2.0.0", "slow")) }
            case "DATA":
                server.write(.startMailInput)
                server.framerMode = .data
            case "STARTTLS":
                _ = server.startTLS(.readyToStartTLS, context: nil)
            case "QUIT":
                server.close(with: .serviceClosing)
            default:
                server.write(SMTPReply(250, "2.0.0", text))
            }
        case .lineTooLong:
            server.write(.lineTooLong)
        case .dataChunk(let chunk):
            received.append("chunk:\(chunk.readableBytes)")
        case .dataEnd:
            server.write(SMTPReply(250, "2.0.0", "Ok: queued"))
        }
    }

    func closing(because reason: SMTPServerCloseReason, on server: SMTPServerHandler) {
        closeReasons.append("\(reason)")
    }

    func sessionEnded(on server: SMTPServerHandler) {
        ended = true
    }
}

@Suite struct SMTPServerHandlerTests {
    private let session = ScriptSession()
    private let channel: EmbeddedChannel

    init() throws {
        let configuration = SMTPServerHandler.Configuration(
            hostname: "mx.test", sessionTimeout: .seconds(300), commandTimeout: .seconds(10), minimumDataRate: 100)
        channel = EmbeddedChannel(handler: SMTPServerHandler(configuration: configuration, session: session))
        try channel.connect(to: SocketAddress(ipAddress: "192.0.2.1", port: 25)).wait()
    }

    private func send(_ text: String) throws {
        try channel.writeInbound(ByteBuffer(string: text))
    }

    /// Everything written since the last call, as text.
    private func output() throws -> String {
        var text = ""
        while let buffer = try channel.readOutbound(as: ByteBuffer.self) { text += String(buffer: buffer) }
        return text
    }

    /// The last value the handler gave `autoRead`.
    private var autoRead: Bool? {
        channel.options.last { $0.option is ChannelOptions.Types.AutoReadOption }?.value as? Bool
    }

    @Test func greetsOnConnect() throws {
        #expect(try output() == "220 test ESMTP\r\n")
    }

    @Test func pipelinedCommandsAreAnsweredInOrder() throws {
        _ = try output()
        try send("NOOP 1\r\nNOOP 2\r\nNOOP 3\r\n")
        #expect(try output() == "250 2.0.0 NOOP 1\r\n250 2.0.0 NOOP 2\r\n250 2.0.0 NOOP 3\r\n")
    }

    @Test func heldInputWaitsAndReadingPausesOnceItPassesTheLimit() throws {
        _ = try output()
        try send("SLOW\r\nNOOP after\r\n")
        #expect(try output() == "")
        #expect(session.received == ["SLOW"])
        // A little input waiting: reading goes on (no autoRead change per hold).
        #expect(autoRead == nil)
        let line = "NOOP " + String(repeating: "x", count: 500) + "\r\n"
        try send(String(repeating: line, count: SMTPServerHandler.heldInputLimit / line.utf8.count + 1))
        #expect(autoRead == false)
        #expect(session.received == ["SLOW"])
        channel.embeddedEventLoop.advanceTime(by: .seconds(1))
        #expect(try output().hasPrefix("250 2.0.0 slow\r\n250 2.0.0 NOOP after\r\n"))
        #expect(autoRead == true)
    }

    @Test func readingPausesWhileTheClientDoesNotReadReplies() throws {
        channel.isWritable = false
        channel.pipeline.fireChannelWritabilityChanged()
        #expect(autoRead == false)
        channel.isWritable = true
        channel.pipeline.fireChannelWritabilityChanged()
        #expect(autoRead == true)
    }

    @Test func startTLSWithPipelinedPlaintextIsRefused() throws {
        _ = try output()
        // CVE-2011-0411: the MAIL line came in plaintext and must not run after the handshake.
        try send("STARTTLS\r\nMAIL FROM:<evil@example.com>\r\n")
        #expect(try output() == "501 5.5.4 No data may follow STARTTLS before the TLS handshake\r\n")
        #expect(session.received == ["STARTTLS"])
        #expect(session.closeReasons == ["startTLSRefused"])
        #expect(!channel.isActive)
    }

    @Test func partialLineTooSlowIsCutOff() throws {
        _ = try output()
        try send("NOOP but never ends")
        channel.embeddedEventLoop.advanceTime(by: .seconds(9))
        #expect(channel.isActive)
        try send(" …")  // a trickle does not reset the line's clock
        channel.embeddedEventLoop.advanceTime(by: .seconds(1))
        #expect(try output() == "421 4.4.2 mx.test Too slow, closing connection\r\n")
        #expect(session.closeReasons == ["tooSlow(inData: false)"])
        #expect(!channel.isActive)
    }

    @Test func completeLinesAreNotTimed() throws {
        try send("NOOP\r\n")
        channel.embeddedEventLoop.advanceTime(by: .seconds(60))
        #expect(channel.isActive)
    }

    @Test func dataMustKeepItsRate() throws {
        _ = try output()
        try send("DATA\r\n")
        #expect(try output() == "354 End data with <CR><LF>.<CR><LF>\r\n")
        try send(String(repeating: "x", count: 500))  // earns 5 s beyond the 10 s
        channel.embeddedEventLoop.advanceTime(by: .seconds(14))
        #expect(channel.isActive)
        channel.embeddedEventLoop.advanceTime(by: .seconds(1))
        #expect(session.closeReasons == ["tooSlow(inData: true)"])
        #expect(!channel.isActive)
    }

    @Test func sessionTimeLimit() throws {
        _ = try output()
        for _ in 0..<30 {
            try send("NOOP\r\n")
            channel.embeddedEventLoop.advanceTime(by: .seconds(10))
        }
        #expect(try output().hasSuffix("421 4.4.2 mx.test Session time limit exceeded, closing\r\n"))
        #expect(session.closeReasons == ["sessionTimeLimit"])
    }

    @Test func idleTimeoutAnswers421() throws {
        _ = try output()
        channel.pipeline.fireUserInboundEventTriggered(IdleStateHandler.IdleStateEvent.read)
        #expect(try output() == "421 4.4.2 mx.test Idle timeout, closing connection\r\n")
        #expect(!channel.isActive)
    }

    @Test func shutdownBetweenCommandsClosesAtOnce() throws {
        _ = try output()
        channel.pipeline.fireUserInboundEventTriggered(SMTPServerHandler.ShutdownEvent())
        #expect(try output() == "421 4.3.2 mx.test Service shutting down, closing connection\r\n")
        #expect(!channel.isActive)
    }

    @Test func shutdownDuringDataWaitsForTheDot() throws {
        _ = try output()
        try send("DATA\r\nSubject: x\r\n")
        _ = try output()
        channel.pipeline.fireUserInboundEventTriggered(SMTPServerHandler.ShutdownEvent())
        #expect(channel.isActive)
        try send("\r\nbody\r\n.\r\nNOOP\r\n")
        #expect(try output() == "250 2.0.0 Ok: queued\r\n421 4.3.2 mx.test Service shutting down, closing connection\r\n")
        #expect(!session.received.contains("NOOP"))
    }

    @Test func quitClosesAndEndsTheSession() throws {
        _ = try output()
        try send("QUIT\r\nNOOP\r\n")
        #expect(try output() == "221 2.0.0 Bye\r\n")
        #expect(!channel.isActive)
        #expect(session.ended)
        #expect(session.received == ["QUIT"])
    }
}
