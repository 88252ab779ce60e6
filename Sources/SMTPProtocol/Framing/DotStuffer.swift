import NIOCore

/// Prepares message content for `DATA` on the client side (RFC 5321 §4.5.2).
///
/// Streaming: a `.` at the start of any line is doubled, with the line position carried
/// across chunks; bare CR and bare LF are written as CRLF (RFC 5321 §2.3.8) and NUL is
/// dropped (a receiver that ignores NUL would read `CRLF NUL "." CRLF` as the end), so
/// that the output can never contain an end-of-data sequence by accident or by smuggling.
/// ``finish(into:)`` writes the terminator.
///
/// ```
/// content: "Hi\r\n.hidden\r\n"   → C: Hi\r\n..hidden\r\n.\r\n
/// content: "no final newline"     → C: no final newline\r\n.\r\n
/// ```
public struct DotStuffer: Sendable {
    /// Whether the next byte starts a line of the output (true at the start of the data).
    private var atLineStart = true
    /// Whether the last byte written was a CR (whose LF is still to come or to be added).
    private var afterCR = false

    public init() {}

    /// Writes `chunk` to `out`, dot-stuffed and with line endings normalised.
    public mutating func stuff(_ chunk: ByteBuffer, into out: inout ByteBuffer) {
        out.reserveCapacity(minimumWritableBytes: chunk.readableBytes + 16)
        var atLineStart = self.atLineStart
        var afterCR = self.afterCR
        chunk.withUnsafeReadableBytes { bytes in
            var runStart = 0
            for index in 0..<bytes.count {
                let byte = bytes[index]
                if afterCR {
                    afterCR = false
                    if byte == ASCII.lf {
                        atLineStart = true
                        continue
                    }
                    // Bare CR: complete it to CRLF.
                    out.writeBytes(UnsafeRawBufferPointer(rebasing: bytes[runStart..<index]))
                    out.writeInteger(ASCII.lf)
                    runStart = index
                    atLineStart = true
                }
                switch byte {
                case ASCII.cr:
                    afterCR = true
                    atLineStart = false
                case ASCII.lf:
                    // Bare LF: write CRLF.
                    out.writeBytes(UnsafeRawBufferPointer(rebasing: bytes[runStart..<index]))
                    out.writeInteger(ASCII.cr)
                    runStart = index
                    atLineStart = true
                case ASCII.nul:
                    // Dropped; the line position is unchanged, so a dot after it is stuffed.
                    out.writeBytes(UnsafeRawBufferPointer(rebasing: bytes[runStart..<index]))
                    runStart = index + 1
                case ASCII.dot where atLineStart:
                    // Write the run including this dot, then the dot again.
                    out.writeBytes(UnsafeRawBufferPointer(rebasing: bytes[runStart...index]))
                    runStart = index
                    atLineStart = false
                default:
                    atLineStart = false
                }
            }
            out.writeBytes(UnsafeRawBufferPointer(rebasing: bytes[runStart..<bytes.count]))
        }
        self.atLineStart = atLineStart
        self.afterCR = afterCR
    }

    /// Writes the end of data: `.CRLF` when the content ended with a line end (or was
    /// empty), else `CRLF.CRLF`. The stuffer is then ready for a new message.
    public mutating func finish(into out: inout ByteBuffer) {
        if self.afterCR {
            out.writeStaticString("\n.\r\n")
        } else if self.atLineStart {
            out.writeStaticString(".\r\n")
        } else {
            out.writeStaticString("\r\n.\r\n")
        }
        self = DotStuffer()
    }
}
