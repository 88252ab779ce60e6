import NIOCore
import SMTPProtocol
import Testing

@Suite("DotStuffer")
struct DotStufferTests {
    static func stuff(_ chunks: [String]) -> String {
        var stuffer = DotStuffer()
        var out = ByteBuffer()
        for chunk in chunks {
            stuffer.stuff(ByteBuffer(string: chunk), into: &out)
        }
        stuffer.finish(into: &out)
        return String(buffer: out)
    }

    @Test(arguments: [
        ("Hi\r\n.hidden\r\n", "Hi\r\n..hidden\r\n.\r\n"),
        (".first\r\n", "..first\r\n.\r\n"),
        ("no final newline", "no final newline\r\n.\r\n"),
        ("", ".\r\n"),
        ("\r\n", "\r\n.\r\n"),
        (".\r\n", "..\r\n.\r\n"),
        ("a.b\r\n..\r\n", "a.b\r\n...\r\n.\r\n"),
        ("a\nb", "a\r\nb\r\n.\r\n"),
        ("a\n.b\n", "a\r\n..b\r\n.\r\n"),
        ("a\r.b\r", "a\r\n..b\r\n.\r\n"),
        ("a\n.\nMAIL FROM:<x@y.z>\n", "a\r\n..\r\nMAIL FROM:<x@y.z>\r\n.\r\n"),
        ("\r\r\n\n", "\r\n\r\n\r\n.\r\n"),
        // NUL is dropped and does not move the line start: a receiver that ignores NUL
        // must not see "CRLF . CRLF" here.
        ("a\r\n\u{0}.\r\nb\u{0}c\r\n", "a\r\n..\r\nbc\r\n.\r\n"),
        ("\u{0}.\r\n", "..\r\n.\r\n"),
        ("a\r\u{0}.\n", "a\r\n..\r\n.\r\n"),
    ])
    func stuffs(input: String, expected: String) {
        #expect(Self.stuff([input]) == expected)
    }

    @Test func stateCarriesAcrossChunks() {
        #expect(Self.stuff(["a\r", "\n", ".b\r\n"]) == "a\r\n..b\r\n.\r\n")
        #expect(Self.stuff(["a\r", ".b"]) == "a\r\n..b\r\n.\r\n")
        #expect(Self.stuff(["a\r\n", "", ".", ".", "\r\n"]) == "a\r\n...\r\n.\r\n")
        #expect(Self.stuff(["a\r"]) == "a\r\n.\r\n")
        #expect(Self.stuff(["x", "\n", "."]) == "x\r\n..\r\n.\r\n")
    }

    @Test func finishResetsForTheNextMessage() {
        var stuffer = DotStuffer()
        var out = ByteBuffer()
        stuffer.stuff(ByteBuffer(string: "a"), into: &out)
        stuffer.finish(into: &out)
        stuffer.stuff(ByteBuffer(string: ".b\r\n"), into: &out)
        stuffer.finish(into: &out)
        #expect(String(buffer: out) == "a\r\n.\r\n..b\r\n.\r\n")
    }

    /// A random message of CRLF lines, many starting with dots.
    static func randomMessage(using random: inout SplitMix64, bare: Bool) -> [UInt8] {
        var message: [UInt8] = []
        let alphabet = bytes(bare ? "ab.\r\n\u{0}" : "ab. ")
        for _ in 0..<Int.random(in: 0...30, using: &random) {
            for _ in 0..<Int.random(in: 0...3, using: &random) where Bool.random(using: &random) {
                message.append(UInt8(ascii: "."))
            }
            for _ in 0..<Int.random(in: 0...8, using: &random) {
                message.append(alphabet.randomElement(using: &random)!)
            }
            message += bytes("\r\n")
        }
        return message
    }

    /// Bare CR and bare LF written as CRLF, NUL dropped: the reference for what the framer
    /// delivers.
    static func normalized(_ input: [UInt8]) -> [UInt8] {
        var output: [UInt8] = []
        var index = 0
        while index < input.count {
            let byte = input[index]
            if byte == 0x0D, index + 1 < input.count, input[index + 1] == 0x0A {
                output += [0x0D, 0x0A]
                index += 2
                continue
            }
            if byte == 0x0D || byte == 0x0A {
                output += [0x0D, 0x0A]
            } else if byte == 0 {
                // Dropped.
            } else {
                output.append(byte)
            }
            index += 1
        }
        return output
    }

    static func roundTrip(_ message: [UInt8], using random: inout SplitMix64) -> [CollectedFrame] {
        var stuffer = DotStuffer()
        var wire = ByteBuffer()
        // Stuff in random chunks.
        let contentOffsets = (0..<3).map { _ in Int.random(in: 0...max(message.count, 1), using: &random) }
        for piece in pieces(of: message, at: Array(Set(contentOffsets)).sorted()) {
            stuffer.stuff(ByteBuffer(bytes: piece), into: &wire)
        }
        stuffer.finish(into: &wire)
        // Decode in random chunks.
        let wireBytes = wire.bytes
        let wireOffsets = (0..<5).map { _ in Int.random(in: 1...wireBytes.count, using: &random) }
        return FrameCollector.dataFrames(pieces(of: wireBytes, at: Array(Set(wireOffsets)).sorted()))
    }

    @Test func roundTripThroughTheFramerGivesTheOriginal() {
        var random = SplitMix64(seed: 7)
        for _ in 0..<500 {
            let message = Self.randomMessage(using: &random, bare: false)
            let frames = Self.roundTrip(message, using: &random)
            let expected: [CollectedFrame] =
                message.isEmpty
                ? [.dataEnd(DataSummary(size: 0))]
                : [.data(message), .dataEnd(DataSummary(size: message.count))]
            #expect(frames == expected)
        }
    }

    @Test func roundTripWithBareLineEndingsGivesTheNormalizedOriginal() {
        var random = SplitMix64(seed: 11)
        for _ in 0..<500 {
            var message = Self.randomMessage(using: &random, bare: true)
            if Bool.random(using: &random) {
                message += bytes("tail without newline")
            }
            let frames = Self.roundTrip(message, using: &random)
            var expected = Self.normalized(message)
            if !expected.isEmpty, expected.suffix(2) != [0x0D, 0x0A] {
                expected += [0x0D, 0x0A]
            }
            let data =
                frames.compactMap { frame -> [UInt8]? in
                    if case .data(let bytes) = frame { return bytes }
                    return nil
                }.first ?? []
            #expect(data == expected)
            guard case .dataEnd(let summary) = frames.last else {
                Issue.record("no end of data in \(frames)")
                continue
            }
            // The stuffer already normalised everything: the framer sees no bare line ends.
            #expect(summary == DataSummary(size: expected.count))
        }
    }
}
