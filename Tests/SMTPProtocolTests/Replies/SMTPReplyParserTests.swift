import NIOCore
import SMTPProtocol
import Testing

@Suite("SMTPReplyParser")
struct SMTPReplyParserTests {
    /// Feeds `pieces` and returns every reply.
    static func replies(_ pieces: [[UInt8]], parser: SMTPReplyParser = SMTPReplyParser()) throws -> [SMTPReply] {
        var parser = parser
        var replies: [SMTPReply] = []
        for piece in pieces {
            parser.append(ByteBuffer(bytes: piece))
            while let reply = try parser.next() {
                replies.append(reply)
            }
        }
        return replies
    }

    static let session = """
        220 mx.example.org ESMTP ready\r
        250-mx.example.org Hello client\r
        250-PIPELINING\r
        250-SIZE 35882577\r
        250-8BITMIME\r
        250-ENHANCEDSTATUSCODES\r
        250 AUTH PLAIN LOGIN\r
        250 2.1.0 Sender ok\r
        550-5.1.1 The email account that you tried to reach does not exist.\r
        550-5.1.1 Please try double-checking the recipient's email\r
        550 5.1.1 address for typos.\r
        354 Go ahead\r
        250\r
        421 4.7.0 Try again later\n
        """

    static let expected: [SMTPReply] = [
        SMTPReply(code: 220, lines: ["mx.example.org ESMTP ready"]),
        SMTPReply(
            code: 250,
            lines: ["mx.example.org Hello client", "PIPELINING", "SIZE 35882577", "8BITMIME", "ENHANCEDSTATUSCODES", "AUTH PLAIN LOGIN"]),
        SMTPReply(250, "2.1.0", "Sender ok"),
        SMTPReply(
            code: 550, enhancedStatus: EnhancedStatusCode(5, 1, 1),
            lines: [
                "The email account that you tried to reach does not exist.",
                "Please try double-checking the recipient's email",
                "address for typos.",
            ]),
        SMTPReply(code: 354, lines: ["Go ahead"]),
        SMTPReply(code: 250, lines: [""]),
        SMTPReply(421, "4.7.0", "Try again later"),
    ]

    @Test func parsesASessionFedWhole() throws {
        #expect(try Self.replies([bytes(Self.session)]) == Self.expected)
    }

    @Test func parsesTheSameWhenSplitAtEveryByteBoundary() throws {
        let input = bytes(Self.session)
        for offset in 1..<input.count {
            #expect(try Self.replies(pieces(of: input, at: [offset])) == Self.expected, "split at \(offset)")
        }
        #expect(try Self.replies(input.map { [$0] }) == Self.expected)
    }

    @Test func returnsNilUntilTheLastLine() throws {
        var parser = SMTPReplyParser()
        parser.append(ByteBuffer(string: "250-first\r\n250-second\r\n"))
        #expect(try parser.next() == nil)
        parser.append(ByteBuffer(string: "250 last\r"))
        #expect(try parser.next() == nil)
        parser.append(ByteBuffer(string: "\n"))
        #expect(try parser.next() == SMTPReply(code: 250, lines: ["first", "second", "last"]))
        #expect(try parser.next() == nil)
    }

    @Test(arguments: [
        ("250 2.0.0", EnhancedStatusCode(2, 0, 0), ""),
        ("250 2.0.0 Ok", EnhancedStatusCode(2, 0, 0), "Ok"),
        ("250 2.0.0.1 version", nil, "2.0.0.1 version"),
        ("250 2.0.0Ok", nil, "2.0.0Ok"),
        ("250 5.0.0 class mismatch", nil, "5.0.0 class mismatch"),
        ("250 1.2.3 not a status", nil, "1.2.3 not a status"),
        ("250 2.1234.0 too long", nil, "2.1234.0 too long"),
        ("550 5.7.26 Unauthenticated", EnhancedStatusCode(5, 7, 26), "Unauthenticated"),
        ("250 Ok 2.0.0", nil, "Ok 2.0.0"),
    ])
    func enhancedCodeOnlyAtTheStart(line: String, status: EnhancedStatusCode?, text: String) throws {
        let replies = try Self.replies([bytes(line + "\r\n")])
        #expect(replies == [SMTPReply(code: 250 + (line.hasPrefix("550") ? 300 : 0), enhancedStatus: status, lines: [text])])
    }

    @Test func lineAtTheLimitIsAcceptedBeyondIsAnError() throws {
        let text = String(repeating: "x", count: 4096 - 6)
        #expect(try Self.replies([bytes("250 \(text)\r\n")]).first?.lines == [text])
        #expect(throws: SMTPReplyParserError.lineTooLong) { try Self.replies([bytes("250 \(text)x\r\n")]) }
    }

    @Test func endlessLineWithoutLineEndIsAnError() throws {
        var parser = SMTPReplyParser()
        for _ in 0..<4 {
            parser.append(ByteBuffer(repeating: UInt8(ascii: "2"), count: 1000))
            #expect(try parser.next() == nil)
        }
        parser.append(ByteBuffer(repeating: UInt8(ascii: "2"), count: 1000))
        #expect(throws: SMTPReplyParserError.lineTooLong) { try parser.next() }
        // The error is sticky.
        parser.append(ByteBuffer(string: "250 ok\r\n"))
        #expect(throws: SMTPReplyParserError.lineTooLong) { try parser.next() }
    }

    @Test(arguments: ["abc ok\r\n", "25 ok\r\n", "2500 ok\r\n", "250x ok\r\n", "150 ok\r\n", "650 ok\r\n", "\r\n"])
    func invalidLines(line: String) {
        #expect(throws: SMTPReplyParserError.invalidReplyLine) { try Self.replies([bytes(line)]) }
    }

    @Test func inconsistentCodesInAMultiLineReply() {
        #expect(throws: SMTPReplyParserError.inconsistentCodes) { try Self.replies([bytes("250-a\r\n251 b\r\n")]) }
    }

    @Test func tooManyLines() throws {
        let parser = SMTPReplyParser(maximumLineLength: 4096, maximumLineCount: 3)
        #expect(try Self.replies([bytes("250-a\r\n250-b\r\n250 c\r\n")], parser: parser).count == 1)
        #expect(throws: SMTPReplyParserError.tooManyLines) {
            try Self.replies([bytes("250-a\r\n250-b\r\n250-c\r\n250 d\r\n")], parser: parser)
        }
    }

    @Test func encodedRepliesParseBack() throws {
        let replies: [SMTPReply] = [
            .ok, .relayDenied, .startMailInput, .tooManyRecipients,
            SMTPReply(code: 550, enhancedStatus: EnhancedStatusCode(5, 7, 1), lines: ["one", "two"]),
            SMTPReply(code: 250, lines: ["mx Hello", "SIZE 10"]),
        ]
        var wire = ByteBuffer()
        for reply in replies {
            reply.encode(into: &wire)
        }
        #expect(try Self.replies([wire.bytes]) == replies)
    }

    /// What STARTTLS checks before the handshake (RFC 3207 §4.2): no byte held, whether
    /// a half line or the first lines of a multi-line reply.
    @Test(
        "isEmpty only when nothing is held",
        arguments: [
            ("220 go ahead\r\n", true),
            ("220 go ahead\r\n550 5.1", false),
            ("220 go ahead\r\n250-first line\r\n", false),
        ])
    func isEmptyOnlyWhenNothingIsHeld(input: String, empty: Bool) throws {
        var parser = SMTPReplyParser()
        #expect(parser.isEmpty)
        parser.append(ByteBuffer(string: input))
        #expect(try parser.next()?.code == 220)
        while try parser.next() != nil {}
        #expect(parser.isEmpty == empty)
    }
}
