import NIOCore
import SMTPProtocol
import Testing

@Suite("SMTPFramer: command mode")
struct FramerCommandModeTests {
    @Test func splitsLinesAtCRLFAndBareLF() {
        let frames = FrameCollector.frames([bytes("EHLO a\r\nNOOP\nQUIT\r\n\r\n")])
        #expect(frames == [.line("EHLO a"), .line("NOOP"), .line("QUIT"), .line("")])
    }

    @Test func waitsForTheLineEnd() {
        var framer = SMTPFramer()
        framer.append(ByteBuffer(string: "EHLO a\r"))
        #expect(framer.next() == nil)
        #expect(framer.bufferedByteCount == 7)
        framer.append(ByteBuffer(string: "\nNO"))
        #expect(framer.next() == .line(ByteBuffer(string: "EHLO a")))
        #expect(framer.next() == nil)
        #expect(framer.bufferedByteCount == 2)
    }

    @Test func lineOfExactly512OctetsIsAccepted() {
        let content = String(repeating: "x", count: 510)
        #expect(FrameCollector.frames([bytes(content + "\r\n")]) == [.line(content)])
        let bareLF = String(repeating: "y", count: 511)
        #expect(FrameCollector.frames([bytes(bareLF + "\n")]) == [.line(bareLF)])
    }

    @Test func longerLineYieldsOneLineTooLongAndTheSessionContinues() {
        let long = String(repeating: "x", count: 511)
        let input = bytes("NOOP\r\n" + long + "\r\nQUIT\r\n")
        let expected: [CollectedFrame] = [.line("NOOP"), .lineTooLong, .line("QUIT")]
        #expect(FrameCollector.frames([input]) == expected)
        #expect(FrameCollector.frames(input.map { [$0] }) == expected)
    }

    @Test func endlessLineIsDiscardedWithoutBuffering() {
        var collector = FrameCollector()
        for _ in 0..<100 {
            collector.feed([UInt8](repeating: UInt8(ascii: "A"), count: 1000))
            #expect(collector.framer.bufferedByteCount < 512)
        }
        collector.feed(bytes("still the long line\r\nNOOP\r\n"))
        #expect(collector.frames == [.lineTooLong, .line("NOOP")])
    }

    @Test func authResponseModeAllowsLongerLines() {
        let token = String(repeating: "QUFB", count: 2000)  // 8000 octets
        var framer = SMTPFramer()
        framer.mode = .authResponse
        framer.append(ByteBuffer(string: token + "\r\n"))
        #expect(framer.next() == .line(ByteBuffer(string: token)))

        framer.mode = .command
        framer.append(ByteBuffer(string: token + "\r\n"))
        #expect(framer.next() == .lineTooLong)

        let tooLong = String(repeating: "x", count: SMTPLimits.authResponseLineLength - 1)
        framer.mode = .authResponse
        framer.append(ByteBuffer(string: tooLong + "\r\n"))
        #expect(framer.next() == .lineTooLong)
        #expect(framer.next() == nil)
    }

    @Test func customLimits() {
        let framer = SMTPFramer(commandLineLimit: 10, authResponseLineLimit: 20)
        #expect(
            FrameCollector.frames([bytes("12345678\r\n123456789\r\nok\r\n")], framer: framer) == [
                .line("12345678"), .lineTooLong, .line("ok"),
            ])
    }

    @Test func bufferedByteCountRevealsPipelinedBytesAfterSTARTTLS() {
        // CVE-2011-0411: a plaintext command injected after STARTTLS must be detectable.
        var framer = SMTPFramer()
        framer.append(ByteBuffer(string: "STARTTLS\r\nMAIL FROM:<evil@example.com>\r\n"))
        #expect(framer.next() == .line(ByteBuffer(string: "STARTTLS")))
        #expect(framer.bufferedByteCount == 30)

        var clean = SMTPFramer()
        clean.append(ByteBuffer(string: "STARTTLS\r\n"))
        #expect(clean.next() == .line(ByteBuffer(string: "STARTTLS")))
        #expect(clean.bufferedByteCount == 0)
    }

    @Test func linesWithNULAreFramedForTheParserToRefuse() {
        #expect(FrameCollector.frames([[0x45, 0x00, 0x48, 0x0D, 0x0A]]) == [.line("E\u{0}H")])
    }

    @Test func hasPartialLineWhileALineIsIncomplete() {
        // The session handler times lines from their first octet (slow clients).
        var framer = SMTPFramer()
        #expect(!framer.hasPartialLine)
        framer.append(ByteBuffer(string: "NOO"))
        #expect(framer.next() == nil)
        #expect(framer.hasPartialLine)
        framer.append(ByteBuffer(string: "P\r\n"))
        #expect(framer.next() == .line(ByteBuffer(string: "NOOP")))
        #expect(framer.next() == nil)
        #expect(!framer.hasPartialLine)
        // A too-long line being discarded is still a line in progress.
        framer.append(ByteBuffer(string: String(repeating: "x", count: 600)))
        #expect(framer.next() == .lineTooLong)
        #expect(framer.next() == nil)
        #expect(framer.bufferedByteCount == 0)
        #expect(framer.hasPartialLine)
        framer.append(ByteBuffer(string: "xx\r\n"))
        #expect(framer.next() == nil)
        #expect(!framer.hasPartialLine)
        // Data mode: lines do not apply.
        framer.mode = .data
        framer.append(ByteBuffer(string: "partial"))
        #expect(framer.next() == .dataChunk(ByteBuffer(string: "partial")))
        #expect(!framer.hasPartialLine)
    }
}
