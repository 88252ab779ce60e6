import Glibc

/// The character encoding of an imported list: UTF-8 (with or without a byte order mark),
/// or Windows-31J — what Japanese Excel saves as "CSV" and calls Shift_JIS, with NEC and
/// IBM extensions such as ① and ㈱ that plain Shift_JIS lacks (glibc's `CP932`).
public enum CSVEncoding: String, Sendable, CaseIterable {
    case utf8 = "utf-8"
    case cp932

    /// The UTF-8 byte order mark.
    static let bom: [UInt8] = [0xEF, 0xBB, 0xBF]

    /// The encoding of a file from its first bytes: UTF-8 if they start with a BOM or are
    /// valid UTF-8 (a cut multi-byte character at the end is allowed), else CP932. A
    /// CP932 file of ASCII only is also valid UTF-8, and reads the same either way.
    public static func detect(_ head: [UInt8]) -> CSVEncoding {
        if head.starts(with: bom) { return .utf8 }
        var end = head.count
        // Drop a multi-byte sequence the sample cut short.
        var back = 0
        while back < 3, end > 0, head[end - 1] & 0xC0 == 0x80 {
            end -= 1
            back += 1
        }
        if end > 0, head[end - 1] >= 0xC0 { end -= 1 }
        return String(validating: head[..<end], as: UTF8.self) != nil ? .utf8 : .cp932
    }

    /// Accepts `utf-8`, `utf8`, `cp932`, `windows-31j`, `shift_jis`, `sjis` (case-insensitive).
    public init?(name: String) {
        switch name.lowercased() {
        case "utf-8", "utf8": self = .utf8
        case "cp932", "windows-31j", "shift_jis", "shift-jis", "sjis", "ms932": self = .cp932
        default: return nil
        }
    }
}

/// Turns one field's bytes into a String in a given encoding; nil if they are not valid in it.
public final class FieldDecoder {
    public let encoding: CSVEncoding
    private let descriptor: iconv_t?

    public init(_ encoding: CSVEncoding) {
        self.encoding = encoding
        if encoding == .cp932 {
            let d = iconv_open("UTF-8", "CP932")
            descriptor = (d.map { Int(bitPattern: $0) } ?? -1) == -1 ? nil : d
        } else {
            descriptor = nil
        }
    }

    deinit { if let descriptor { iconv_close(descriptor) } }

    public func decode(_ bytes: [UInt8]) -> String? {
        switch encoding {
        case .utf8:
            return String(validating: bytes, as: UTF8.self)
        case .cp932:
            if bytes.allSatisfy({ $0 < 0x80 }) { return String(decoding: bytes, as: UTF8.self) }
            guard let descriptor else { return nil }
            var input = bytes
            // A CP932 character becomes at most 3 UTF-8 bytes.
            var output = [UInt8](repeating: 0, count: bytes.count * 3 + 4)
            _ = iconv(descriptor, nil, nil, nil, nil)
            let written: Int? = input.withUnsafeMutableBufferPointer { inBuffer in
                output.withUnsafeMutableBufferPointer { outBuffer in
                    var inPointer: UnsafeMutablePointer<CChar>? = UnsafeMutableRawPointer(inBuffer.baseAddress!)
                        .assumingMemoryBound(to: CChar.self)
                    var inLeft = inBuffer.count
                    var outPointer: UnsafeMutablePointer<CChar>? = UnsafeMutableRawPointer(outBuffer.baseAddress!)
                        .assumingMemoryBound(to: CChar.self)
                    var outLeft = outBuffer.count
                    if iconv(descriptor, &inPointer, &inLeft, &outPointer, &outLeft) == -1 { return nil }
                    return outBuffer.count - outLeft
                }
            }
            guard let written else { return nil }
            return String(decoding: output[..<written], as: UTF8.self)
        }
    }
}
