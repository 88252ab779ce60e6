import COpenSSLCrypto

/// The signature of a webhook request (README "Webhooks"), in the style of Stripe's and
/// Standard Webhooks' schemes:
///
/// ```
/// X-Hikyaku-Timestamp: 1733500000
/// X-Hikyaku-Signature: v1=<hex HMAC-SHA256(secret, "1733500000" + "." + body)>[,v1=<…second secret…>]
/// ```
///
/// The timestamp is inside the MAC, so a receiver that refuses old timestamps (5 minutes)
/// refuses replays; during a secret rotation the request carries one `v1=` per secret and
/// a receiver accepts it when any matches (compared in constant time).
public enum WebhookSignature {
    public static let timestampHeader = "X-Hikyaku-Timestamp"
    public static let signatureHeader = "X-Hikyaku-Signature"

    /// `v1=<hex>` for one secret.
    public static func sign(secret: String, timestamp: Int64, body: [UInt8]) -> String {
        "v1=" + hex(hmacSHA256(key: Array(secret.utf8), data: Array("\(timestamp).".utf8) + body))
    }

    /// The signature header's value: one `v1=` per secret, comma-separated.
    public static func header(secrets: [String], timestamp: Int64, body: [UInt8]) -> String {
        secrets.map { sign(secret: $0, timestamp: timestamp, body: body) }.joined(separator: ",")
    }

    /// HMAC-SHA256 (RFC 2104) with libcrypto.
    public static func hmacSHA256(key: [UInt8], data: [UInt8]) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: 32)
        var length: UInt32 = 0
        _ = HMAC(EVP_sha256(), key, Int32(key.count), data, data.count, &out, &length)
        return out
    }

    static func hex(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        out.reserveCapacity(bytes.count * 2)
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// A new secret: `whsec_` and 32 random bytes in hex.
    public static func newSecret() -> String {
        var rng = SystemRandomNumberGenerator()
        return "whsec_" + hex((0..<32).map { _ in UInt8.random(in: 0...255, using: &rng) })
    }
}
