import NIOCore

/// One unit of input produced by ``SMTPFramer``.
public enum SMTPFrame: Hashable, Sendable {
    /// A command line (or AUTH response line) without its line terminator.
    case line(ByteBuffer)
    /// A line exceeded the limit of the current mode; its bytes up to the next line end
    /// are discarded and the session continues with the following line.
    case lineTooLong
    /// Part of the message content (dot-unstuffed, line endings normalised to CRLF).
    case dataChunk(ByteBuffer)
    /// The end-of-data sequence `CRLF.CRLF` was read; the framer is back in command mode.
    case dataEnd(DataSummary)
}
