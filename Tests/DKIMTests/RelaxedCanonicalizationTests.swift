import Foundation
import Testing

@testable import DKIM

struct RelaxedCanonicalizationTests {
    // RFC 6376 §3.4.5: "A: <SP> X <CRLF> B <SP> : <SP> Y <HTAB><CRLF> <HTAB> Z <SP><SP><CRLF>
    // <CRLF> <SP> C <SP><CRLF> D <SP><HTAB><SP> E <CRLF> <CRLF> <CRLF>", relaxed/relaxed.
    static let rfc6376Example = "A: X\r\nB : Y\t\r\n\tZ  \r\n\r\n C \r\nD \t E\r\n\r\n\r\n"

    @Test func rfc6376Section345ExampleHeader() throws {
        let message = bytes(Self.rfc6376Example)
        let section = try message.withUnsafeBufferPointer { try HeaderSection.parse($0) }
        #expect(section.fields.count == 2)
        #expect(text(try RelaxedCanonicalization.header(Array(message[..<section.bodyStart]))) == "a:X\r\nb:Y Z\r\n")
    }

    @Test func rfc6376Section345ExampleBody() throws {
        let message = bytes(Self.rfc6376Example)
        let section = try message.withUnsafeBufferPointer { try HeaderSection.parse($0) }
        #expect(text(RelaxedCanonicalization.body(Array(message[section.bodyStart...]))) == " C\r\nD E\r\n")
    }

    // RFC 6376 §3.4.4 (b): "If the body is non-empty but does not end with a CRLF, a CRLF is
    // added" — only a non-empty body gets one. (Contrast §3.4.3, simple: "a completely empty
    // or missing body is canonicalized as a single CRLF".) So in relaxed an empty body, or
    // one of only empty lines, is the empty string, and bh= is SHA-256 of nothing.
    @Test(arguments: ["", "\r\n", "\r\n\r\n\r\n", " \t\r\n\r\n  \r\n", "  "])
    func anEmptyBodyCanonicalizesToNothing(body: String) {
        #expect(RelaxedCanonicalization.body(bytes(body)) == [])
    }

    @Test func theHashOfAnEmptyBodyIsTheHashOfNothing() throws {
        let hash = try [UInt8]().withUnsafeBufferPointer { try DKIMSigner.bodyHash($0) }
        #expect(LibCrypto.base64(hash) == "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=")
    }

    // The body of RFC 6376 Appendix A and RFC 8463 Appendix A (two spaces after "game."),
    // whose relaxed body hash both RFCs print.
    @Test(arguments: [
        "Hi.\r\n\r\nWe lost the game.  Are you hungry yet?\r\n\r\nJoe.\r\n",
        "Hi.\r\n\r\nWe lost the game. Are you hungry yet?\r\n\r\nJoe.\r\n",
        "Hi. \t\r\n\r\nWe  lost\tthe game. Are you hungry yet?\r\n\r\nJoe.\r\n\r\n \r\n\r\n",
        "Hi.\r\n\r\nWe lost the game. Are you hungry yet?\r\n\r\nJoe.",
    ])
    func bodyHashMatchesTheRFCExamples(body: String) throws {
        let hash = try bytes(body).withUnsafeBufferPointer { try DKIMSigner.bodyHash($0) }
        #expect(LibCrypto.base64(hash) == "2jUSOH9NhtVGCQWNr9BrIAPreKQjO6Sn7XIkfJVOzv8=")
    }

    @Test func trailingWhiteSpaceOnALineIsIgnored() {
        #expect(text(RelaxedCanonicalization.body(bytes("a \t \r\nb\t\r\nc\r\n"))) == "a\r\nb\r\nc\r\n")
    }

    @Test func whiteSpaceRunsBecomeOneSpace() {
        #expect(text(RelaxedCanonicalization.body(bytes("a \t  b\t\tc d\r\n"))) == "a b c d\r\n")
        // Leading white space is a run like any other: reduced, not removed.
        #expect(text(RelaxedCanonicalization.body(bytes("\t\t a\r\n"))) == " a\r\n")
    }

    @Test func emptyLinesInsideTheBodyStayAndAtTheEndGo() {
        #expect(text(RelaxedCanonicalization.body(bytes("a\r\n\r\n \r\nb\r\n\r\n\r\n"))) == "a\r\n\r\n\r\nb\r\n")
    }

    @Test func aLastLineWithoutCRLFGetsOne() {
        #expect(text(RelaxedCanonicalization.body(bytes("abc"))) == "abc\r\n")
        #expect(text(RelaxedCanonicalization.body(bytes("abc  "))) == "abc\r\n")
        #expect(text(RelaxedCanonicalization.body(bytes("a\r\nb"))) == "a\r\nb\r\n")
    }

    @Test func bareCRAndLFAreOrdinaryCharacters() {
        #expect(text(RelaxedCanonicalization.body(bytes("a\rb\r\n"))) == "a\rb\r\n")
        #expect(text(RelaxedCanonicalization.body(bytes("a\nb\r\n"))) == "a\nb\r\n")
        #expect(text(RelaxedCanonicalization.body(bytes("a\r\r\n"))) == "a\r\r\n")
        #expect(text(RelaxedCanonicalization.body(bytes("a\r"))) == "a\r\r\n")
    }

    /// The streaming canonicalizer gives the same bytes however the body is cut into
    /// chunks: a CR, a white-space run or a run of empty lines split between two chunks.
    @Test func chunkBoundariesDoNotMatter() {
        let body = bytes(" x \t\r\n\r\n\ty  z \r\r\n\r\n\n \r\n  w\r\n \r\n\r\n")
        let whole = RelaxedCanonicalization.body(body)
        #expect(text(whole) == " x\r\n\r\n y z \r\r\n\r\n\n\r\n w\r\n")
        for split in 0...body.count {
            var canonicalizer = RelaxedBodyCanonicalizer()
            var output = CollectedBytes()
            Array(body[..<split]).withUnsafeBufferPointer { canonicalizer.feed($0, into: &output) }
            Array(body[split...]).withUnsafeBufferPointer { canonicalizer.feed($0, into: &output) }
            canonicalizer.finish(into: &output)
            #expect(output.bytes == whole, "split at \(split)")
        }
        var canonicalizer = RelaxedBodyCanonicalizer()
        var output = CollectedBytes()
        for byte in body {
            [byte].withUnsafeBufferPointer { canonicalizer.feed($0, into: &output) }
        }
        canonicalizer.finish(into: &output)
        #expect(output.bytes == whole, "byte by byte")
    }

    @Test func aBodyLargerThanTheCanonicalizerBufferHashesAsAWhole() throws {
        // 100 000 bytes fill the 4 KiB output buffer many times, with white space at the seams.
        var body: [UInt8] = []
        while body.count < 100_000 { body += bytes("line  of\ttext   \r\n") }
        body += bytes("\r\n\r\n")
        let streamed = try body.withUnsafeBufferPointer { try DKIMSigner.bodyHash($0) }
        let canonical = RelaxedCanonicalization.body(body)
        #expect(canonical.count > 4 * RelaxedBodyCanonicalizer.bufferSize)
        #expect(text(canonical).hasSuffix("line of text\r\n"))
        #expect(streamed == (try SHA256Hasher.hash(canonical)))
    }

    /// Random bodies — dense in CR, LF, CRLF, WSP and empty lines, long enough to fill the
    /// output buffer many times — fed in random chunks, against a line-by-line transcription
    /// of §3.4.4.
    @Test func randomBodiesMatchAReferenceImplementation() {
        var random = SplitMix64(seed: 6376)
        let alphabet: [[UInt8]] = [[0x61], [0x62], [0x20], [0x09], [0x0D], [0x0A], [0x0D, 0x0A], [0x0D, 0x0A, 0x0D, 0x0A]]
        for round in 0..<200 {
            var body: [UInt8] = []
            let length = Int(random.next() % (round < 100 ? 64 : 20_000))
            while body.count < length { body += alphabet[Int(random.next() % UInt64(alphabet.count))] }
            var canonicalizer = RelaxedBodyCanonicalizer()
            var output = CollectedBytes()
            var offset = 0
            while offset < body.count {
                let end = min(body.count, offset + 1 + Int(random.next() % 9000))
                Array(body[offset..<end]).withUnsafeBufferPointer { canonicalizer.feed($0, into: &output) }
                offset = end
            }
            canonicalizer.finish(into: &output)
            let expected = Self.referenceRelaxedBody(body)
            #expect(output.bytes == expected, "round \(round), body of \(body.count) bytes")
            if output.bytes != expected { break }
        }
    }

    /// RFC 6376 §3.4.4 done the obvious way: split into CRLF-terminated lines, reduce WSP
    /// runs and drop trailing WSP per line, drop trailing empty lines, end each line in CRLF.
    static func referenceRelaxedBody(_ body: [UInt8]) -> [UInt8] {
        var lines: [[UInt8]] = []
        var current: [UInt8] = []
        var index = 0
        while index < body.count {
            if body[index] == 0x0D, index + 1 < body.count, body[index + 1] == 0x0A {
                lines.append(current)
                current = []
                index += 2
            } else {
                current.append(body[index])
                index += 1
            }
        }
        if !current.isEmpty { lines.append(current) }  // a last line without CRLF
        var reduced = lines.map { line -> [UInt8] in
            var out: [UInt8] = []
            var inRun = false
            for byte in line {
                if byte == 0x20 || byte == 0x09 {
                    inRun = true
                } else {
                    if inRun { out.append(0x20) }
                    inRun = false
                    out.append(byte)
                }
            }
            return out
        }
        while reduced.last?.isEmpty == true { reduced.removeLast() }
        return reduced.flatMap { $0 + [0x0D, 0x0A] }
    }

    @Test func headerNamesAreLowerCased() throws {
        #expect(text(try RelaxedCanonicalization.header(bytes("SUBJect: AbC\r\n"))) == "subject:AbC\r\n")
        #expect(text(try RelaxedCanonicalization.header(bytes("Message-ID: <A@B>\r\n"))) == "message-id:<A@B>\r\n")
    }

    @Test func foldedHeadersAreUnfolded() throws {
        #expect(text(try RelaxedCanonicalization.header(bytes("Subject: a\r\n  b\r\n\tc  \r\n"))) == "subject:a b c\r\n")
        #expect(
            text(try RelaxedCanonicalization.header(bytes("To: x@a.example,\r\n y@b.example\r\n"))) == "to:x@a.example, y@b.example\r\n")
    }

    @Test func headerWhiteSpaceIsReducedAndTrimmed() throws {
        #expect(text(try RelaxedCanonicalization.header(bytes("X-Y \t:  v \t w \t\r\n"))) == "x-y:v w\r\n")
        #expect(text(try RelaxedCanonicalization.header(bytes("X:\r\n"))) == "x:\r\n")
        #expect(text(try RelaxedCanonicalization.header(bytes("X: \t \r\n"))) == "x:\r\n")
        #expect(text(try RelaxedCanonicalization.header(bytes("X:a\r\n"))) == "x:a\r\n")
    }

    @Test func aHeaderSectionWithoutBodyEndsAtTheEnd() throws {
        let message = bytes("From: a@example.com\r\nSubject: x\r\n")
        let section = try message.withUnsafeBufferPointer { try HeaderSection.parse($0) }
        #expect(section.fields.count == 2)
        #expect(section.bodyStart == message.count)
    }

    @Test(arguments: [
        ("From: a\nTo: b\r\n\r\n", "bare LF"),
        ("From a@example.com\r\n\r\n", "no colon"),
        (" folded: x\r\n\r\n", "no field above"),
        (": x\r\n\r\n", "empty field name"),
    ])
    func malformedHeadersAreRefused(header: String, reason: String) throws {
        let error = try #require(throws: DKIMError.self) {
            try bytes(header).withUnsafeBufferPointer { try HeaderSection.parse($0) }
        }
        #expect(error.code == .malformedHeader)
        #expect(error.detail.contains(reason), "\(error.detail)")
        #expect(error.detail.contains("line 1"), "\(error.detail)")
    }
}
