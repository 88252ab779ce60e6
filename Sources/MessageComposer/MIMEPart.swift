/// A MIME entity (RFC 2045 §2.4): its Content-* fields and a body that is either bytes,
/// already transfer-encoded, or a multipart of further entities (RFC 2046 §5.1).
struct MIMEPart {
    enum Body {
        case bytes([UInt8])
        case multipart(subtype: String, parts: [MIMEPart])
    }

    var fields: [HeaderField]
    var body: Body

    /// The longest line a body may hold (RFC 5322 §2.1.1, RFC 2045 §2.7), without CRLF.
    static let maximumLineLength = 998

    /// A text part in `encoder`'s charset, lines ended by CRLF (RFC 2046 §4.1.1). 7bit when
    /// the encoded text is 7-bit, NUL-free and short-lined (RFC 2045 §2.7); base64 otherwise.
    /// ISO-2022-JP is converted line by line so each line returns to ASCII (RFC 1468).
    static func text(_ text: String, subtype: String, _ encoder: TextEncoder, field: String) throws(CompositionError) -> MIMEPart {
        var encoded: [UInt8] = []
        var sevenBit = true
        var lineStart = 0
        let utf8 = Array(text.utf8)
        var index = 0
        // CRLF, bare CR and bare LF all end a line.
        while index <= utf8.count {
            guard index == utf8.count || utf8[index] == 13 || utf8[index] == 10 else {
                index += 1
                continue
            }
            let line = utf8[lineStart..<index]
            let bytes =
                encoder.charset == .utf8 ? Array(line) : try encoder.encode(String(decoding: line, as: UTF8.self), field: field)
            if bytes.count > maximumLineLength || bytes.contains(where: { $0 == 0 || $0 >= 0x80 }) { sevenBit = false }
            encoded += bytes
            if index == utf8.count { break }
            encoded += [13, 10]
            index += utf8[index] == 13 && index + 1 < utf8.count && utf8[index + 1] == 10 ? 2 : 1
            lineStart = index
        }
        return MIMEPart(
            fields: [
                HeaderField("Content-Type", ["text/\(subtype);", "charset=\(encoder.mimeName)"]),
                HeaderField("Content-Transfer-Encoding", [sevenBit ? "7bit" : "base64"]),
            ],
            body: .bytes(sevenBit ? encoded : Base64.bodyLines(encoded)))
    }

    /// The bytes of this entity: its fields, an empty line, its body. Multipart boundaries
    /// are chosen after the parts are written, so each is checked against their bytes.
    func serialized(using generator: inout some RandomNumberGenerator) throws(CompositionError) -> [UInt8] {
        var output: [UInt8] = []
        switch body {
        case .bytes(let bytes):
            for field in fields { field.render(into: &output) }
            output += [13, 10]
            output += bytes
        case .multipart(let subtype, let parts):
            var children: [[UInt8]] = []
            for part in parts { children.append(try part.serialized(using: &generator)) }
            let boundary = try Self.boundary(avoiding: children, using: &generator)
            let contentType = HeaderField("Content-Type", ["multipart/\(subtype);", "boundary=\"\(boundary)\""])
            for field in fields + [contentType] { field.render(into: &output) }
            output += [13, 10]
            // RFC 2046 §5.1.1: the CRLF before each delimiter belongs to the delimiter.
            for child in children {
                output += "--\(boundary)\r\n".utf8
                output += child
                output += [13, 10]
            }
            output += "--\(boundary)--\r\n".utf8
        }
        return output
    }

    static let boundaryAlphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789".utf8)

    /// A random boundary (RFC 2046 §5.1.1: up to 70 bchars) found nowhere in the parts.
    /// `=_` never occurs in base64, and 28 random characters (166 bits) cannot be guessed by
    /// a sender placing lines in a text part; the search makes it certain. Each search is
    /// linear; a few attempts bound the loop.
    static func boundary(
        avoiding parts: [[UInt8]], using generator: inout some RandomNumberGenerator
    ) throws(CompositionError)
        -> String
    {
        for _ in 0..<8 {
            var candidate = Array("=_hk_".utf8)
            for _ in 0..<28 { candidate.append(boundaryAlphabet.randomElement(using: &generator)!) }
            if !parts.contains(where: { contains($0, candidate) }) { return String(decoding: candidate, as: UTF8.self) }
        }
        throw CompositionError(field: "body", message: "no MIME boundary absent from the content was found")
    }

    /// Whether `needle` occurs in `haystack`: linear for a needle of fixed length.
    static func contains(_ haystack: [UInt8], _ needle: [UInt8]) -> Bool {
        guard let first = needle.first, haystack.count >= needle.count else { return false }
        var index = 0
        while index <= haystack.count - needle.count {
            if haystack[index] == first && haystack[index..<index + needle.count].elementsEqual(needle) { return true }
            index += 1
        }
        return false
    }
}
