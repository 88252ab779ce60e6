/// The body hash (`bh=`, RFC 6376 §3.7 step 1) of a body that arrives in pieces: each piece
/// is relaxed-canonicalized (§3.4.4) straight into a running SHA-256, so a body of any size
/// is hashed without ever being held whole. Pieces may split anywhere — inside a CRLF, a
/// white-space run, or a run of trailing empty lines — and give the hash of the whole.
///
/// ```
/// let hasher = try DKIMBodyHasher()
/// hasher.update(piece) …                    // as the body streams by, in order
/// let field = try signer.sign(header: headerSection, bodyHash: try hasher.finish(), time: now)
/// ```
///
/// One hasher belongs to one body and is fed by one party at a time, in order (the SMTP
/// session while DATA arrives, then the enqueue that takes the last piece); it is a class
/// because the SHA-256 context is OpenSSL state, hence `@unchecked Sendable`.
public final class DKIMBodyHasher: @unchecked Sendable {
    private var canonicalizer = RelaxedBodyCanonicalizer()
    private let hasher: SHA256Hasher

    public init() throws {
        hasher = try SHA256Hasher()
    }

    /// Hashes the next piece of the body (not dot-stuffed, CRLF line ends).
    public func update(_ piece: UnsafeRawBufferPointer) {
        var sink = hasher
        canonicalizer.feed(piece.assumingMemoryBound(to: UInt8.self), into: &sink)
    }

    /// Ends the body (a missing last CRLF is added, trailing empty lines stay dropped) and
    /// returns its hash. Call once.
    public func finish() throws -> DKIMBodyHash {
        var sink = hasher
        canonicalizer.finish(into: &sink)
        return DKIMBodyHash(bytes: try hasher.finish())
    }
}

/// A finished body hash, for ``DKIMSigner/sign(header:bodyHash:time:)``.
public struct DKIMBodyHash: Sendable, Equatable {
    let bytes: [UInt8]
}
