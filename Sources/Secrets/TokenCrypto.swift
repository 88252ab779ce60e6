import COpenSSLCrypto

/// The primitives a signed token (VERP return paths, and later unsubscribe links) needs
/// beside its key: SHA-256, HMAC-SHA256 (RFC 2104) and a comparison whose time does not
/// depend on where two MACs differ.
public enum TokenCrypto {
    public static func sha256(_ data: [UInt8]) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: 32)
        var length: UInt32 = 0
        _ = EVP_Digest(data, data.count, &out, &length, EVP_sha256(), nil)
        return out
    }

    public static func hmacSHA256(key: [UInt8], data: [UInt8]) -> [UInt8] {
        Crypto.hmacSHA256(key: key, data: data)
    }

    /// Whether `a` and `b` are equal, looking at every byte whatever the first difference
    /// (a MAC compared with `==` tells a forger, by timing, how many leading bytes are right).
    public static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        var difference: UInt8 = 0
        for index in a.indices { difference |= a[index] ^ b[index] }
        return difference == 0
    }
}

extension SecretKeyring {
    /// The HMAC keys for `purpose` with the id of the key file's key each comes from,
    /// newest first: a token names (a hash of) its key id so verification tries only that key.
    public func hmacKeysByID(purpose: String) -> [(keyID: String, key: [UInt8])] {
        keys.reversed().map { ($0.id, $0.derive("hmac:\(purpose)")) }
    }
}
