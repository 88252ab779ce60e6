import COpenSSLCrypto

/// Standard base64 (RFC 4648 §4) for key files and sealed secrets.
enum Base64 {
    static func encode(_ bytes: [UInt8]) -> String {
        guard !bytes.isEmpty else { return "" }
        var out = [UInt8](repeating: 0, count: 4 * ((bytes.count + 2) / 3) + 1)
        let length = EVP_EncodeBlock(&out, bytes, Int32(bytes.count))
        return String(decoding: out.prefix(Int(length)), as: UTF8.self)
    }

    /// nil unless `text` is canonical base64.
    static func decode(_ text: String) -> [UInt8]? {
        let input = Array(text.utf8)
        guard !input.isEmpty, input.count % 4 == 0 else { return nil }
        var out = [UInt8](repeating: 0, count: input.count / 4 * 3)
        let length = EVP_DecodeBlock(&out, input, Int32(input.count))
        guard length >= 0 else { return nil }
        // EVP_DecodeBlock counts the padding's zero bytes too.
        let padding = input.reversed().prefix(while: { $0 == UInt8(ascii: "=") }).count
        let bytes = Array(out.prefix(Int(length) - padding))
        return encode(bytes) == text ? bytes : nil
    }
}
