import NIOCore
import SMTPProtocol
import Testing

@Suite("SMTPServerStateMachine + SMTPFramer: pipelined sessions")
struct ServerPipeliningTests {
    /// RFC 2920: the client sends each group without waiting; DATA ends a group, and the
    /// content follows the 354.
    static let groups: [String] = [
        "EHLO client.example.com\r\n",
        "MAIL FROM:<a@example.com>\r\nRCPT TO:<b@example.org>\r\nRCPT TO:<c@[10.0.0.1]>\r\nRCPT TO:<d@example.org>\r\nDATA\r\n",
        "Subject: one\r\n\r\n..dotted\r\n.\r\nMAIL FROM:<>\r\nRCPT TO:<e@example.org>\r\nDATA\r\n",
        "Subject: two\r\n.\r\nQUIT\r\n",
    ]

    static let expectedCodes = [220, 250, 250, 250, 550, 250, 354, 250, 250, 250, 354, 250, 221]

    static func check(_ session: WireSession) {
        #expect(session.codes == Self.expectedCodes)
        #expect(session.closed)
        #expect(session.messages.count == 2)
        guard session.messages.count == 2 else { return }
        #expect(session.messages[0].content == bytes("Subject: one\r\n\r\n.dotted\r\n"))
        #expect(session.messages[0].transaction.recipients.map(\.description) == ["<b@example.org>", "<d@example.org>"])
        #expect(session.messages[1].content == bytes("Subject: two\r\n"))
        #expect(session.messages[1].transaction.reversePath == .null)
        #expect(session.replies[7] == SMTPReply(250, "2.0.0", "Ok: queued as Q1"))
    }

    @Test func groupsFedOneByOne() {
        var session = WireSession(Configs.allowListed())
        for group in Self.groups {
            session.feed(bytes(group))
        }
        Self.check(session)
    }

    @Test func everythingInOneBuffer() {
        var session = WireSession(Configs.allowListed())
        session.feed(bytes(Self.groups.joined()))
        Self.check(session)
    }

    @Test func oneByteAtATime() {
        var session = WireSession(Configs.allowListed())
        for byte in bytes(Self.groups.joined()) {
            session.feed([byte])
        }
        Self.check(session)
    }

    @Test func splitAtEveryByteBoundary() {
        let input = bytes(Self.groups.joined())
        for offset in 1..<input.count {
            var session = WireSession(Configs.allowListed())
            for piece in pieces(of: input, at: [offset]) {
                session.feed(piece)
            }
            #expect(session.codes == Self.expectedCodes, "split at \(offset)")
        }
    }

    @Test func refusedPipelineGetsNoValidRecipients() {
        var session = WireSession(Configs.stranger())
        session.feed(
            bytes("EHLO x\r\nMAIL FROM:<a@example.com>\r\nRCPT TO:<b@example.org>\r\nRCPT TO:<c@example.org>\r\nDATA\r\nRSET\r\nQUIT\r\n"))
        #expect(session.codes == [220, 250, 250, 550, 550, 554, 250, 221])
        #expect(session.replies[5] == .noValidRecipients)
        #expect(session.messages.isEmpty)
    }

    @Test func authenticatedSubmissionOverImplicitTLS() {
        var session = WireSession(Configs.submission(), isTLS: true, passwords: ["alice": "s3cret"])
        session.feed(bytes("EHLO laptop\r\nAUTH LOGIN\r\n"))
        session.feed(bytes(b64("alice") + "\r\n"))
        session.feed(bytes(b64("wrong") + "\r\nAUTH PLAIN\r\n"))
        session.feed(bytes(b64("\u{0}alice\u{0}s3cret") + "\r\n"))
        session.feed(bytes("MAIL FROM:<alice@example.com>\r\nRCPT TO:<bob@example.org>\r\nDATA\r\nHi\r\n.\r\nQUIT\r\n"))
        #expect(session.codes == [220, 250, 334, 334, 535, 334, 235, 250, 250, 354, 250, 221])
        #expect(session.messages.first?.transaction.authenticatedUser == "alice")
        #expect(session.messages.first?.transaction.protocolName == "ESMTPSA")
    }

    @Test func longAuthResponseIsAcceptedLongCommandIsNot() {
        var session = WireSession(Configs.submission(), isTLS: true)
        let longToken = b64("\u{0}alice\u{0}" + String(repeating: "p", count: 3000))
        session.feed(bytes("EHLO laptop\r\nAUTH PLAIN\r\n\(longToken)\r\nNOOP \(String(repeating: "n", count: 600))\r\nNOOP\r\n"))
        // 334, then 535 (unknown user), then 500 5.5.6 for the long NOOP, then 250.
        #expect(session.codes == [220, 250, 334, 535, 500, 250])
    }

    @Test func startTLSGuardSeesInjectedPlaintext() {
        // CVE-2011-0411: "STARTTLS\r\nMAIL FROM:..." in one packet. The handler must see
        // the buffered bytes when STARTTLS is acted upon, and refuse.
        var injected = WireSession(Configs.submission())
        injected.feed(bytes("EHLO x\r\nSTARTTLS\r\nRSET\r\n"))
        #expect(injected.bufferedAtStartTLS == [6])

        var clean = WireSession(Configs.submission())
        clean.feed(bytes("EHLO x\r\nSTARTTLS\r\n"))
        #expect(clean.bufferedAtStartTLS == [0])
        clean.feed(bytes("EHLO x\r\nMAIL FROM:<a@example.com>\r\n"))
        #expect(clean.codes == [220, 250, 220, 250, 250])
    }

    @Test func smuggledCommandsStayInTheMessage() {
        var session = WireSession(Configs.allowListed())
        session.feed(
            bytes(
                "EHLO x\r\nMAIL FROM:<a@example.com>\r\nRCPT TO:<b@example.org>\r\nDATA\r\n"
                    + "Subject: hi\r\n\n.\nMAIL FROM:<evil@example.com>\r\nRCPT TO:<victim@example.org>\r\nDATA\r\n"
                    + "\r\n.\r\nQUIT\r\n"))
        #expect(session.codes == [220, 250, 250, 250, 354, 250, 221])
        #expect(session.messages.count == 1)
        #expect(
            session.messages.first?.content
                == bytes(
                    "Subject: hi\r\n\r\n.\r\nMAIL FROM:<evil@example.com>\r\nRCPT TO:<victim@example.org>\r\nDATA\r\n\r\n"))
        #expect(session.messages.first?.transaction.dataSummary.bareLineEndingsNormalized == 2)
    }
}
