/// What the framer saw of one message's content, reported with ``SMTPFrame/dataEnd(_:)``.
public struct DataSummary: Hashable, Sendable {
    /// Octets of content emitted in ``SMTPFrame/dataChunk(_:)`` frames (after
    /// dot-unstuffing and line-ending normalisation, excluding the terminating `.CRLF`).
    public var size: Int
    /// How many bare CR or bare LF octets were rewritten as CRLF (RFC 5321 §2.3.8 forbids
    /// them; passing them on enables SMTP smuggling).
    public var bareLineEndingsNormalized: Int
    /// How many NUL octets were dropped. RFC 5321 §4.1.1.4 says control characters other
    /// than SP, HT, CR and LF SHOULD be avoided and RFC 2045 §2.7-2.8 forbids NUL in 7bit
    /// and 8bit data; some receivers ignore NUL, so that `CRLF NUL "." CRLF` passed on
    /// unchanged would end the data at the next hop (SMTP smuggling).
    public var nulBytesRemoved: Int

    public init(size: Int = 0, bareLineEndingsNormalized: Int = 0, nulBytesRemoved: Int = 0) {
        self.size = size
        self.bareLineEndingsNormalized = bareLineEndingsNormalized
        self.nulBytesRemoved = nulBytesRemoved
    }
}
