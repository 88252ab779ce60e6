import NIOCore
import SMTPProtocol
import Testing

@Suite("SMTPFramer: input split anywhere gives the same frames")
struct FramerSplitTests {
    /// A pipelined session: commands, a too-long line, a DATA body with stuffed dots and
    /// bare line endings, more commands and a second message.
    static let session: [UInt8] = bytes(
        "EHLO client.example.com\r\n"
            + "MAIL FROM:<a@example.com> SIZE=100\r\nRCPT TO:<b@example.org>\nRCPT TO:<c@example.org>\r\n"
            + String(repeating: "N", count: 600) + "\r\n"
            + "DATA\r\n"
            + "Subject: test\r\n\r\n..leading dot\r\n.\rbare cr after dot\r\nbare\nlf\r\n\n.\n\r\nend.\r\n.\r\n"
            + "RSET\r\nMAIL FROM:<>\r\nRCPT TO:<d@example.org>\r\nDATA\r\n"
            + ".\r\n"
            + "QUIT\r\n")

    static let expected: [CollectedFrame] = [
        .line("EHLO client.example.com"),
        .line("MAIL FROM:<a@example.com> SIZE=100"),
        .line("RCPT TO:<b@example.org>"),
        .line("RCPT TO:<c@example.org>"),
        .lineTooLong,
        .line("DATA"),
        .data(bytes("Subject: test\r\n\r\n.leading dot\r\n\r\nbare cr after dot\r\nbare\r\nlf\r\n\r\n.\r\n\r\nend.\r\n")),
        .dataEnd(DataSummary(size: 75, bareLineEndingsNormalized: 4)),
        .line("RSET"),
        .line("MAIL FROM:<>"),
        .line("RCPT TO:<d@example.org>"),
        .line("DATA"),
        .dataEnd(DataSummary(size: 0)),
        .line("QUIT"),
    ]

    @Test func wholeInput() {
        #expect(FrameCollector.frames([Self.session]) == Self.expected)
    }

    @Test func splitAtEveryByteBoundary() {
        for offset in 1..<Self.session.count {
            let frames = FrameCollector.frames(pieces(of: Self.session, at: [offset]))
            #expect(frames == Self.expected, "split at \(offset)")
        }
    }

    @Test func oneByteAtATime() {
        #expect(FrameCollector.frames(Self.session.map { [$0] }) == Self.expected)
    }

    @Test func randomSplits() {
        var random = SplitMix64(seed: 42)
        for _ in 0..<200 {
            let count = Int.random(in: 1...20, using: &random)
            let offsets = (0..<count).map { _ in Int.random(in: 1..<Self.session.count, using: &random) }
            let frames = FrameCollector.frames(pieces(of: Self.session, at: Array(Set(offsets)).sorted()))
            #expect(frames == Self.expected, "offsets \(offsets.sorted())")
        }
    }
}
