/// Base64 (RFC 4648 §4) as used by SMTP AUTH (RFC 4954 §4). Decoding is strict: only the
/// base64 alphabet, correct `=` padding, no whitespace.
public enum SMTPBase64 {
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

    private static let decodingTable: [UInt8] = {
        var table = [UInt8](repeating: 0xFF, count: 256)
        for (value, byte) in alphabet.enumerated() {
            table[Int(byte)] = UInt8(value)
        }
        return table
    }()

    /// Encodes `bytes` with padding.
    public static func encode(_ bytes: some Collection<UInt8>) -> String {
        let input = Array(bytes)
        var output: [UInt8] = []
        output.reserveCapacity((input.count + 2) / 3 * 4)
        var index = 0
        while index < input.count {
            let remaining = input.count - index
            let b0 = input[index]
            let b1 = remaining > 1 ? input[index + 1] : 0
            let b2 = remaining > 2 ? input[index + 2] : 0
            output.append(self.alphabet[Int(b0 >> 2)])
            output.append(self.alphabet[Int((b0 & 0x03) << 4 | b1 >> 4)])
            output.append(remaining > 1 ? self.alphabet[Int((b1 & 0x0F) << 2 | b2 >> 6)] : ASCII.equals)
            output.append(remaining > 2 ? self.alphabet[Int(b2 & 0x3F)] : ASCII.equals)
            index += 3
        }
        return String(decoding: output, as: UTF8.self)
    }

    /// Encodes the UTF-8 bytes of `text`.
    public static func encode(_ text: String) -> String {
        self.encode(Array(text.utf8))
    }

    /// Decodes padded base64; `nil` when `text` is not valid base64.
    public static func decode(_ text: some Collection<UInt8>) -> [UInt8]? {
        let input = Array(text)
        guard input.count % 4 == 0 else { return nil }
        var output: [UInt8] = []
        output.reserveCapacity(input.count / 4 * 3)
        var index = 0
        while index < input.count {
            let isLastQuad = index + 4 == input.count
            let padding = isLastQuad ? input[index...].reversed().prefix(while: { $0 == ASCII.equals }).count : 0
            guard padding <= 2 else { return nil }
            var values: [UInt8] = []
            for byte in input[index..<(index + 4 - padding)] {
                let value = self.decodingTable[Int(byte)]
                guard value != 0xFF else { return nil }
                values.append(value)
            }
            output.append(values[0] << 2 | values[1] >> 4)
            if values.count > 2 {
                output.append(values[1] << 4 | values[2] >> 2)
            } else if values[1] & 0x0F != 0 {
                return nil  // non-canonical: bits that would be dropped are set
            }
            if values.count > 3 {
                output.append(values[2] << 6 | values[3])
            } else if values.count == 3, values[2] & 0x03 != 0 {
                return nil
            }
            index += 4
        }
        return output
    }

    /// Decodes the base64 text `text`.
    public static func decode(_ text: String) -> [UInt8]? {
        self.decode(Array(text.utf8))
    }
}
