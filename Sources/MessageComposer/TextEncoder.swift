/// Encodes the draft's text (bodies, subject, display names, header values) in its charset.
struct TextEncoder {
    let charset: BodyCharset
    private let iconv: Iconv?

    init(_ charset: BodyCharset) throws(CompositionError) {
        self.charset = charset
        switch charset {
        case .utf8:
            iconv = nil
        case .iso2022jp:
            guard let converter = Iconv(to: "ISO-2022-JP") else {
                throw CompositionError(field: "charset", message: "this system's iconv has no ISO-2022-JP converter")
            }
            iconv = converter
        }
    }

    /// The MIME charset name (RFC 2046 §4.1.2, RFC 1468).
    var mimeName: String {
        switch charset {
        case .utf8: "UTF-8"
        case .iso2022jp: "ISO-2022-JP"
        }
    }

    /// The bytes of `text`; for ISO-2022-JP starting and ending in ASCII. A character the
    /// charset lacks (an emoji in ISO-2022-JP) is an error naming `field`, never a silent loss.
    func encode(_ text: String, field: String) throws(CompositionError) -> [UInt8] {
        guard let iconv else { return Array(text.utf8) }
        switch iconv.convert(text) {
        case .converted(let bytes):
            return bytes
        case .unconvertible(let offset):
            let utf8 = Array(text.utf8)
            let rest = String(decoding: utf8[min(offset, utf8.count)...], as: UTF8.self)
            let scalar = rest.unicodeScalars.first.map { "U+" + String($0.value, radix: 16, uppercase: true) } ?? "a character"
            throw CompositionError(field: field, message: "\(scalar) cannot be represented in \(mimeName)")
        }
    }
}
