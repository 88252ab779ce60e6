/// What the framer saw of one message's content, reported with ``SMTPFrame/dataEnd(_:)``.
public struct DataSummary: Hashable, Sendable {
    /// Octets of content emitted in ``SMTPFrame/dataChunk(_:)`` frames (after
    /// dot-unstuffing and line-ending normalisation, excluding the terminating `.CRLF`).
    public var size: Int
    /// How many bare CR or bare LF octets were rewritten as CRLF (RFC 5321 §2.3.8 forbids
    /// them; passing them on enables SMTP smuggling).
    public var bareLineEndingsNormalized: Int

    public init(size: Int = 0, bareLineEndingsNormalized: Int = 0) {
        self.size = size
        self.bareLineEndingsNormalized = bareLineEndingsNormalized
    }
}
