/// A DKIM signing algorithm, as written in the `a=` tag of a `DKIM-Signature` field.
///
/// - `rsa-sha256`: RSASSA-PKCS1-v1_5 with SHA-256 (RFC 6376 §3.3.1). Every verifier
///   supports it; RFC 8301 §3.2 asks for keys of at least 1024 bits, 2048 recommended.
/// - `ed25519-sha256`: Ed25519 over the SHA-256 hash of the signed data (RFC 8463 §3).
///   Small keys and fast signatures, but not every receiver verifies it yet, so senders
///   usually publish it beside an RSA signature rather than instead of one.
public enum DKIMAlgorithm: String, Sendable, Hashable, CaseIterable {
    case rsaSHA256 = "rsa-sha256"
    case ed25519SHA256 = "ed25519-sha256"

    /// The key type in the DNS record's `k=` tag (RFC 6376 §3.6.1, RFC 8463 §4).
    public var keyType: String {
        switch self {
        case .rsaSHA256: return "rsa"
        case .ed25519SHA256: return "ed25519"
        }
    }
}
