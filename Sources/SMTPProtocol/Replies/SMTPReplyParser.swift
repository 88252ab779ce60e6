import NIOCore

/// Reads replies from the bytes a server sends (client side; RFC 5321 §4.2).
///
/// Feed bytes with ``append(_:)`` as they arrive and call ``next()`` until it returns
/// `nil`. Multi-line replies are assembled; an enhanced status code (RFC 2034 §4) is
/// recognised only when a line's text starts with `class.subject.detail` followed by a
/// space or the line end, and is removed from the text of every line that carries it.
///
/// ```
/// S: 250-mx.example.org Hello
/// S: 250-SIZE 35882577
/// S: 250 ENHANCEDSTATUSCODES
///   → SMTPReply(code: 250, lines: ["mx.example.org Hello", "SIZE 35882577", "ENHANCEDSTATUSCODES"])
/// S: 550 5.1.1 No such user
///   → SMTPReply(code: 550, enhancedStatus: 5.1.1, lines: ["No such user"])
/// ```
/// Lines end at CRLF (a bare LF is tolerated). Lines longer than
/// ``maximumLineLength`` (default 4096, beyond RFC 5321's 512 to be lenient) and replies of
/// more than ``maximumLineCount`` lines throw; after an error every call throws it again.
public struct SMTPReplyParser: Sendable {
    public let maximumLineLength: Int
    public let maximumLineCount: Int

    private var buffer = ByteBuffer()
    /// Bytes after the reader index already searched for LF.
    private var scannedBytes = 0
    private var pendingCode: Int?
    private var pendingEnhancedStatus: EnhancedStatusCode?
    private var pendingLines: [String] = []
    private var failure: SMTPReplyParserError?

    public init(maximumLineLength: Int = SMTPLimits.replyLineLength, maximumLineCount: Int = SMTPLimits.replyLineCount) {
        self.maximumLineLength = maximumLineLength
        self.maximumLineCount = maximumLineCount
    }

    /// Bytes received but not yet part of a returned reply's complete lines.
    public var bufferedByteCount: Int {
        self.buffer.readableBytes
    }

    /// Whether nothing is held: no unread bytes and no reply begun but unfinished. Before a
    /// TLS handshake this must hold (RFC 3207 §4.2: what came before it must be discarded).
    public var isEmpty: Bool {
        self.buffer.readableBytes == 0 && self.pendingCode == nil
    }

    public mutating func append(_ bytes: ByteBuffer) {
        if self.buffer.readableBytes == 0 {
            self.buffer = bytes
        } else {
            if self.buffer.readerIndex > 4096 {
                self.buffer.discardReadBytes()
            }
            self.buffer.writeImmutableBuffer(bytes)
        }
    }

    /// Returns the next complete reply, or `nil` when more bytes are needed.
    public mutating func next() throws(SMTPReplyParserError) -> SMTPReply? {
        if let failure = self.failure {
            throw failure
        }
        do {
            while let line = try self.nextLine() {
                if let reply = try self.consume(line: line) {
                    return reply
                }
            }
            return nil
        } catch {
            self.failure = error
            throw error
        }
    }

    private mutating func nextLine() throws(SMTPReplyParserError) -> ArraySlice<UInt8>? {
        let view = self.buffer.readableBytesView
        let searchStart = view.startIndex + self.scannedBytes
        guard let lf = view[searchStart...].firstIndex(of: ASCII.lf) else {
            self.scannedBytes = view.count
            if view.count > self.maximumLineLength {
                throw .lineTooLong
            }
            return nil
        }
        let lineLength = lf - view.startIndex + 1
        guard lineLength <= self.maximumLineLength else { throw .lineTooLong }
        var line = Array(view[view.startIndex..<lf])[...]
        if line.last == ASCII.cr {
            line = line.dropLast()
        }
        self.buffer.moveReaderIndex(forwardBy: lineLength)
        self.scannedBytes = 0
        return line
    }

    /// Adds one line to the reply being assembled; returns the reply after its last line.
    private mutating func consume(line: ArraySlice<UInt8>) throws(SMTPReplyParserError) -> SMTPReply? {
        guard line.count >= 3, line.prefix(3).allSatisfy(ASCII.isDigit), (0x32...0x35).contains(line[line.startIndex]) else {
            throw .invalidReplyLine
        }
        let code = line.prefix(3).reduce(0) { $0 * 10 + Int($1 - 0x30) }
        var isLast = true
        var text = line.dropFirst(3)
        if let separator = text.first {
            switch separator {
            case ASCII.space: isLast = true
            case ASCII.hyphen: isLast = false
            default: throw .invalidReplyLine
            }
            text = text.dropFirst()
        }
        if let pendingCode = self.pendingCode, pendingCode != code {
            throw .inconsistentCodes
        }
        guard self.pendingLines.count < self.maximumLineCount else { throw .tooManyLines }
        self.pendingCode = code

        if let (status, length) = EnhancedStatusCode.parse(text), status.class == code / 100,
            text.count == length || text[text.startIndex + length] == ASCII.space
        {
            text = text.dropFirst(length)
            if text.first == ASCII.space {
                text = text.dropFirst()
            }
            if self.pendingEnhancedStatus == nil {
                self.pendingEnhancedStatus = status
            }
        }
        self.pendingLines.append(String(decoding: text, as: UTF8.self))

        guard isLast else { return nil }
        let reply = SMTPReply(code: code, enhancedStatus: self.pendingEnhancedStatus, lines: self.pendingLines)
        self.pendingCode = nil
        self.pendingEnhancedStatus = nil
        self.pendingLines = []
        return reply
    }
}
