import NIOCore
import SMTPProtocol
import Testing

@Suite("SMTPFramer: data mode")
struct FramerDataModeTests {
    /// Feeds `input` in data mode and returns the frames, whole and byte by byte (which must agree).
    static func decode(_ input: String) -> [CollectedFrame] {
        let whole = FrameCollector.dataFrames([bytes(input)])
        let byteByByte = FrameCollector.dataFrames(bytes(input).map { [$0] })
        #expect(whole == byteByByte)
        return whole
    }

    @Test func simpleMessage() {
        #expect(
            Self.decode("Subject: hi\r\n\r\nbody\r\n.\r\n") == [
                .data(bytes("Subject: hi\r\n\r\nbody\r\n")),
                .dataEnd(DataSummary(size: 21)),
            ])
    }

    @Test func immediateDotIsAnEmptyMessage() {
        #expect(Self.decode(".\r\n") == [.dataEnd(DataSummary(size: 0))])
        #expect(Self.decode(".\r\nQUIT\r\n") == [.dataEnd(DataSummary(size: 0)), .line("QUIT")])
    }

    @Test func dotUnstuffing() {
        #expect(
            Self.decode("..foo\r\n.bar\r\n...\r\n..\r\nx.y\r\n.\r\n") == [
                .data(bytes(".foo\r\nbar\r\n..\r\n.\r\nx.y\r\n")),
                .dataEnd(DataSummary(size: 23)),
            ])
    }

    @Test func returnsToCommandModeAndContinuesWithPipelinedCommands() {
        var collector = FrameCollector()
        collector.feed(bytes("DATA\r\nhello\r\n.\r\nMAIL FROM:<a@example.com>\r\nRCPT TO:<b@example.org>\r\n"))
        #expect(
            collector.frames == [
                .line("DATA"), .data(bytes("hello\r\n")), .dataEnd(DataSummary(size: 7)),
                .line("MAIL FROM:<a@example.com>"), .line("RCPT TO:<b@example.org>"),
            ])
        #expect(collector.framer.mode == .command)
    }

    @Test func dataLinesAreNotLimitedTo512Octets() {
        let long = String(repeating: "z", count: 5000)
        #expect(Self.decode(long + "\r\n.\r\n") == [.data(bytes(long + "\r\n")), .dataEnd(DataSummary(size: 5002))])
    }

    // MARK: SMTP smuggling: none of these end the data; the bare line ends are normalised.

    @Test func lfDotLfDoesNotEndData() {
        #expect(
            Self.decode("a\n.\nMAIL FROM:<evil@example.com>\r\n.\r\nQUIT\r\n") == [
                .data(bytes("a\r\n.\r\nMAIL FROM:<evil@example.com>\r\n")),
                .dataEnd(DataSummary(size: 36, bareLineEndingsNormalized: 2)),
                .line("QUIT"),
            ])
    }

    @Test func crDotCrDoesNotEndData() {
        #expect(
            Self.decode("a\r.\rMAIL FROM:<evil@example.com>\r\n.\r\n") == [
                .data(bytes("a\r\n.\r\nMAIL FROM:<evil@example.com>\r\n")),
                .dataEnd(DataSummary(size: 36, bareLineEndingsNormalized: 2)),
            ])
    }

    @Test func lfDotCrlfDoesNotEndData() {
        #expect(
            Self.decode("a\n.\r\nMAIL FROM:<evil@example.com>\r\n.\r\n") == [
                .data(bytes("a\r\n.\r\nMAIL FROM:<evil@example.com>\r\n")),
                .dataEnd(DataSummary(size: 36, bareLineEndingsNormalized: 1)),
            ])
    }

    @Test func crlfDotCrDoesNotEndData() {
        // The line starts with "." after a real CRLF, so the dot is unstuffed; the bare CR
        // becomes CRLF.
        #expect(
            Self.decode("a\r\n.\rMAIL FROM:<evil@example.com>\r\n.\r\n") == [
                .data(bytes("a\r\n\r\nMAIL FROM:<evil@example.com>\r\n")),
                .dataEnd(DataSummary(size: 35, bareLineEndingsNormalized: 1)),
            ])
    }

    @Test func crlfDotLfDoesNotEndData() {
        #expect(
            Self.decode("a\r\n.\nMAIL FROM:<evil@example.com>\r\n.\r\n") == [
                .data(bytes("a\r\n\r\nMAIL FROM:<evil@example.com>\r\n")),
                .dataEnd(DataSummary(size: 35, bareLineEndingsNormalized: 1)),
            ])
    }

    @Test func crCrlfDotCrlfIsARealEnd() {
        // "a\r" + "\r\n.\r\n": the first CR is bare, then a real CRLF . CRLF.
        #expect(
            Self.decode("a\r\r\n.\r\n") == [
                .data(bytes("a\r\n\r\n")),
                .dataEnd(DataSummary(size: 5, bareLineEndingsNormalized: 1)),
            ])
    }

    @Test func nulBytesDoNotEndDataAndAreDropped() {
        // "\0." is not a dot at a line start, so it stays (and is stuffed on output); ".\0"
        // is, and loses its dot.
        #expect(
            Self.decode("a\r\n\u{0}.\r\n.\u{0}\r\nb\u{0}c\u{0}\r\n.\r\n") == [
                .data(bytes("a\r\n.\r\n\r\nbc\r\n")),
                .dataEnd(DataSummary(size: 12, nulBytesRemoved: 4)),
            ])
        #expect(Self.decode("\u{0}\u{0}\u{0}") == [])
    }

    @Test func bareLineEndingsAtTheStartOfData() {
        #expect(
            Self.decode("\n.\n.\r\n.\r\n") == [
                .data(bytes("\r\n.\r\n.\r\n")),
                .dataEnd(DataSummary(size: 8, bareLineEndingsNormalized: 2)),
            ])
        #expect(
            Self.decode("\r.\r\n.\r\n") == [
                .data(bytes("\r\n.\r\n")),
                .dataEnd(DataSummary(size: 5, bareLineEndingsNormalized: 1)),
            ])
    }

    @Test func dotCrCrIsNotAnEnd() {
        #expect(
            Self.decode(".\r\r\n.\r\n") == [
                .data(bytes("\r\n\r\n")),
                .dataEnd(DataSummary(size: 4, bareLineEndingsNormalized: 1)),
            ])
    }

    @Test func emitsContentBeforeTheEndArrives() {
        var framer = SMTPFramer()
        framer.mode = .data
        framer.append(ByteBuffer(string: "partial content"))
        #expect(framer.next() == .dataChunk(ByteBuffer(string: "partial content")))
        #expect(framer.next() == nil)
        #expect(framer.bufferedByteCount == 0)
        framer.append(ByteBuffer(string: "\r\n."))
        #expect(framer.next() == .dataChunk(ByteBuffer(string: "\r\n")))
        #expect(framer.next() == nil)
        framer.append(ByteBuffer(string: "\r"))
        #expect(framer.next() == nil)
        framer.append(ByteBuffer(string: "\n"))
        #expect(framer.next() == .dataEnd(DataSummary(size: 17)))
        #expect(framer.mode == .command)
    }

    @Test func summaryIsPerMessage() {
        var collector = FrameCollector()
        collector.feed(bytes("DATA\r\nab\n\r\n.\r\nDATA\r\nc\r\n.\r\n"))
        #expect(
            collector.frames == [
                .line("DATA"), .data(bytes("ab\r\n\r\n")), .dataEnd(DataSummary(size: 6, bareLineEndingsNormalized: 1)),
                .line("DATA"), .data(bytes("c\r\n")), .dataEnd(DataSummary(size: 3)),
            ])
    }
}
