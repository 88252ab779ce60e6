import NIOCore
import SMTPProtocol
import Testing

/// SMTP smuggling (SEC Consult, December 2023): a malformed end of data that one hop
/// ignores and the next honours splits one message into two, the second with an envelope
/// of the attacker's choosing. RFC 5321 §4.1.1.4 ends the data only at `CRLF "." CRLF`,
/// and §2.3.8 forbids bare CR and LF. Each variant below is sent inside a message, followed
/// by a smuggled transaction and the real end: the framer must end the data only at the real
/// end, and what it passes on must hold no bare CR, bare LF or NUL, so that the variant is
/// not forwarded unchanged; dot-stuffed for the next hop, the smuggled lines are plain text.
@Suite("SMTPFramer: SMTP smuggling variants")
struct FramerSmugglingTests {
    struct Variant: CustomTestStringConvertible, Sendable {
        let name: String
        /// The malformed end of data as sent.
        let sent: String
        /// What it becomes in the decoded content.
        let decoded: String
        var testDescription: String { self.name }
    }

    static let variants: [Variant] = [
        // A dot after a bare line end is not at a line start: kept, then stuffed on output.
        Variant(name: "<LF>.<LF>", sent: "\n.\n", decoded: "\r\n.\r\n"),
        Variant(name: "<CR>.<CR>", sent: "\r.\r", decoded: "\r\n.\r\n"),
        Variant(name: "<LF>.<CRLF>", sent: "\n.\r\n", decoded: "\r\n.\r\n"),
        Variant(name: "<CR>.<LF>", sent: "\r.\n", decoded: "\r\n.\r\n"),
        Variant(name: "<CR>.<CRLF>", sent: "\r.\r\n", decoded: "\r\n.\r\n"),
        Variant(name: "<LF>.<CR>", sent: "\n.\r", decoded: "\r\n.\r\n"),
        // A dot after a real CRLF starts a line and is removed (dot-unstuffing).
        Variant(name: "<CRLF>.<LF>", sent: "\r\n.\n", decoded: "\r\n\r\n"),
        Variant(name: "<CRLF>.<CR>", sent: "\r\n.\r", decoded: "\r\n\r\n"),
        Variant(name: "<CRLF>.<CR><CRLF>", sent: "\r\n.\r\r\n", decoded: "\r\n\r\n\r\n"),
        // NUL is content for framing, then dropped: some receivers ignore it.
        Variant(name: "<CRLF><NUL>.<CRLF>", sent: "\r\n\u{0}.\r\n", decoded: "\r\n.\r\n"),
        Variant(name: "<CRLF>.<NUL><CRLF>", sent: "\r\n.\u{0}\r\n", decoded: "\r\n\r\n"),
        Variant(name: "<CR><NUL><LF>.<CRLF>", sent: "\r\u{0}\n.\r\n", decoded: "\r\n\r\n.\r\n"),
        Variant(name: "<LF><NUL>.<LF>", sent: "\n\u{0}.\n", decoded: "\r\n.\r\n"),
    ]

    static let prefix = "From: <a@example.com>\r\nSubject: hi\r\n\r\nbody"
    static let smuggled =
        "MAIL FROM:<spoof@bank.test>\r\nRCPT TO:<victim@example.test>\r\nDATA\r\n"
        + "From: <ceo@bank.test>\r\n\r\nsmuggled\r\n"

    @Test(arguments: variants)
    func endsOnlyAtTheRealEndOfData(_ variant: Variant) {
        let input = bytes(Self.prefix + variant.sent + Self.smuggled + ".\r\nQUIT\r\n")
        let content = bytes(Self.prefix + variant.decoded + Self.smuggled)
        let expected: [CollectedFrame] = [.data(content), .line("QUIT")]

        let whole = FrameCollector.dataFrames([input])
        #expect(whole.count == 3)
        guard whole.count == 3, case .dataEnd(let summary) = whole[1] else { return }
        #expect([whole[0], whole[2]] == expected)
        #expect(summary.size == content.count)
        #expect(summary.bareLineEndingsNormalized + summary.nulBytesRemoved > 0, "the variant was not noticed")
        // The same at every split point and one octet at a time.
        for offset in 1..<input.count {
            #expect(FrameCollector.dataFrames(pieces(of: input, at: [offset])) == whole, "split at \(offset)")
        }
        #expect(FrameCollector.dataFrames(input.map { [$0] }) == whole)
    }

    @Test(arguments: variants)
    func isPlainTextAfterStuffingForTheNextHop(_ variant: Variant) {
        let content = bytes(Self.prefix + variant.decoded + Self.smuggled)
        #expect(!content.contains(0))
        #expect(Self.hasOnlyCRLF(content))
        var stuffer = DotStuffer()
        var out = ByteBuffer()
        stuffer.stuff(ByteBuffer(bytes: content), into: &out)
        stuffer.finish(into: &out)
        let wire = out.bytes
        // The only end of data on the wire to the next hop is the terminator.
        let ends = wire.indices.filter { wire[$0...].starts(with: bytes("\r\n.\r\n")) }
        #expect(ends == [wire.count - 5])
        #expect(String(buffer: out).utf8.split(separator: 0x0A).contains { Array($0) == bytes("MAIL FROM:<spoof@bank.test>\r") })
    }

    @Test func stuffedContentDecodesBackToItself() {
        for variant in Self.variants {
            let content = bytes(Self.prefix + variant.decoded + Self.smuggled)
            var stuffer = DotStuffer()
            var out = ByteBuffer()
            stuffer.stuff(ByteBuffer(bytes: content), into: &out)
            stuffer.finish(into: &out)
            #expect(
                FrameCollector.dataFrames([out.bytes]) == [.data(content), .dataEnd(DataSummary(size: content.count))],
                "\(variant.name)")
        }
    }

    static func hasOnlyCRLF(_ bytes: [UInt8]) -> Bool {
        bytes.indices.allSatisfy { index in
            switch bytes[index] {
            case 0x0D: index + 1 < bytes.count && bytes[index + 1] == 0x0A
            case 0x0A: index > 0 && bytes[index - 1] == 0x0D
            default: true
            }
        }
    }
}
