/// SHA-256 from the same libcrypto DKIM uses, for the relay's other hashing needs (account
/// API keys are stored only as this hash: they are long random strings, so a fast hash
/// is safe where a password would need a slow one).
public enum Digest {
    /// The lower-case hex SHA-256 of the UTF-8 bytes of `text`.
    public static func sha256Hex(_ text: String) throws -> String {
        let digest = try SHA256Hasher.hash(Array(text.utf8))
        let hex = Array("0123456789abcdef")
        return String(digest.flatMap { [hex[Int($0 >> 4)], hex[Int($0 & 0x0f)]] })
    }
}
