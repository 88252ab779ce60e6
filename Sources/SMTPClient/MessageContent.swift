import NIOCore

/// The content of a mail transaction's DATA (RFC 5321 §4.1.1.4), not dot-stuffed: pieces in
/// memory (added header fields, a small message, or the first part of a large one), then
/// optionally a stored remainder that is read one piece at a time as the connection takes
/// it — so a large message is never held whole, and nothing is concatenated.
public struct MessageContent: Sendable {
    /// Octets in all (for `SIZE=`, RFC 1870).
    public let size: Int
    let inMemory: [ByteBuffer]
    let stored: Stored?

    /// The part still in storage: `length` octets from `offset`, read with `read(offset,
    /// count)` in pieces of at most `pieceSize`.
    struct Stored: Sendable {
        var offset: Int
        var length: Int
        var pieceSize: Int
        var read: @Sendable (_ offset: Int, _ count: Int) async throws -> ByteBuffer
    }

    public init(_ bytes: ByteBuffer) {
        self.init(pieces: [bytes])
    }

    /// Content held in memory, sent in this order.
    public init(pieces: [ByteBuffer]) {
        self.inMemory = pieces
        self.size = pieces.reduce(0) { $0 + $1.readableBytes }
        self.stored = nil
    }

    /// `pieces`, then `length` octets read from storage from `offset` on, at most
    /// `pieceSize` at a time; `read` must return exactly the octets asked for.
    public init(
        pieces: [ByteBuffer], thenStored length: Int, from offset: Int, pieceSize: Int,
        read: @escaping @Sendable (_ offset: Int, _ count: Int) async throws -> ByteBuffer
    ) {
        precondition(pieceSize > 0)
        self.inMemory = pieces
        self.size = pieces.reduce(length) { $0 + $1.readableBytes }
        self.stored = length > 0 ? Stored(offset: offset, length: length, pieceSize: pieceSize, read: read) : nil
    }
}
