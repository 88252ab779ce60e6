/// Content-Transfer-Encoding (RFC 2045 §6) and charsets, decoded leniently: invalid input
/// decodes as far as it goes and never fails.
enum TransferEncoding {
    static func decode(_ bytes: ArraySlice<UInt8>, encoding: String) -> [UInt8] {
        switch encoding {
        case "base64": base64(bytes)
        case "quoted-printable": quotedPrintable(bytes)
        default: Array(bytes)
        }
    }

    /// Base64 (RFC 2045 §6.8): characters outside the alphabet are skipped, decoding stops
    /// at `=`, a partial last group gives what bytes it has.
    static func base64<Bytes: Collection<UInt8>>(_ bytes: Bytes) -> [UInt8] {
        var output: [UInt8] = []
        output.reserveCapacity(bytes.count * 3 / 4)
        var accumulator: UInt32 = 0
        var bits = 0
        for byte in bytes {
            let value: UInt8
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"): value = byte - UInt8(ascii: "A")
            case UInt8(ascii: "a")...UInt8(ascii: "z"): value = byte - UInt8(ascii: "a") + 26
            case UInt8(ascii: "0")...UInt8(ascii: "9"): value = byte - UInt8(ascii: "0") + 52
            case UInt8(ascii: "+"), UInt8(ascii: "-"): value = 62
            case UInt8(ascii: "/"), UInt8(ascii: "_"): value = 63
            case UInt8(ascii: "="): return output
            default: continue
            }
            accumulator = accumulator << 6 | UInt32(value)
            bits += 6
            if bits >= 8 {
                bits -= 8
                output.append(UInt8(truncatingIfNeeded: accumulator >> UInt32(bits)))
                accumulator &= (1 << UInt32(bits)) - 1
            }
        }
        return output
    }

    /// Quoted-printable (RFC 2045 §6.7): `=XX` and soft line breaks; a malformed `=` is kept.
    static func quotedPrintable<Bytes: Collection<UInt8>>(_ input: Bytes, underscoreIsSpace: Bool = false) -> [UInt8]
    where Bytes.Index == Int {
        var output: [UInt8] = []
        output.reserveCapacity(input.count)
        var index = input.startIndex
        while index < input.endIndex {
            let byte = input[index]
            if byte == UInt8(ascii: "=") {
                // Soft line break: "=" then optional white space then CRLF or LF.
                var next = index + 1
                while next < input.endIndex, input[next] == 0x20 || input[next] == 0x09 { next += 1 }
                if next < input.endIndex, input[next] == 0x0D { next += 1 }
                if next < input.endIndex, input[next] == 0x0A {
                    index = next + 1
                    continue
                }
                if next >= input.endIndex {
                    index = next
                    continue
                }
                if index + 2 < input.endIndex, let high = hexValue(input[index + 1]), let low = hexValue(input[index + 2]) {
                    output.append(high << 4 | low)
                    index += 3
                    continue
                }
            }
            output.append(underscoreIsSpace && byte == UInt8(ascii: "_") ? 0x20 : byte)
            index += 1
        }
        return output
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        default: nil
        }
    }

    /// Bytes as text: UTF-8 when they are valid UTF-8, else Latin-1 byte by byte (so the
    /// ASCII of ISO-8859-*, Windows-125x, ISO-2022-JP and junk all survives).
    static func text<Bytes: Collection<UInt8>>(_ bytes: Bytes, charset: String?) -> String {
        if let text = String(validating: bytes, as: UTF8.self) { return text }
        var scalars = String.UnicodeScalarView()
        for byte in bytes { scalars.append(Unicode.Scalar(byte)) }
        return String(scalars)
    }

    /// Decodes RFC 2047 encoded words (`=?utf-8?B?…?=`, `=?iso-8859-1?Q?…?=`) in a header
    /// value, for matching subjects; words in other charsets keep their ASCII.
    static func decodeEncodedWords(_ value: String) -> String {
        guard value.has("=?") else { return value }
        var result = ""
        var rest = Substring(value)
        var previousWasWord = false
        while let start = rest.byteRange(of: "=?") {
            let before = rest[..<start.lowerBound]
            let afterStart = rest[start.upperBound...]
            let pieces = afterStart.split(separator: "?", maxSplits: 3, omittingEmptySubsequences: false)
            guard pieces.count == 4, pieces[3].hasPrefix("="), pieces[1].count == 1 else {
                result += rest[..<start.upperBound]
                rest = afterStart
                previousWasWord = false
                continue
            }
            // White space between two encoded words is not text (RFC 2047 §6.2).
            if !(previousWasWord && before.allSatisfy({ $0 == " " || $0 == "\t" })) { result += before }
            let encoded = Array(pieces[2].utf8)
            let decoded = pieces[1].lowercased() == "b" ? base64(encoded) : quotedPrintable(encoded, underscoreIsSpace: true)
            result += text(decoded, charset: String(pieces[0]))
            rest = pieces[3].dropFirst()
            previousWasWord = true
        }
        return result + rest
    }
}

extension StringProtocol {
    /// Whether `needle` occurs in the text, compared as UTF-8 bytes (cheap and exact; the
    /// needles are ASCII phrases).
    func has(_ needle: String) -> Bool { byteRange(of: needle) != nil }

    /// The first occurrence of `needle`, found byte by byte in the UTF-8 view.
    func byteRange(of needle: String) -> Range<String.Index>? {
        let target = Array(needle.utf8)
        guard let first = target.first else { return nil }
        let view = utf8
        var index = view.startIndex
        while index != view.endIndex {
            if view[index] == first {
                var probe = index
                var matched = 0
                while matched < target.count, probe != view.endIndex, view[probe] == target[matched] {
                    matched += 1
                    probe = view.index(after: probe)
                }
                if matched == target.count { return index..<probe }
            }
            index = view.index(after: index)
        }
        return nil
    }

    /// The lines of the text, split at LF (a CRLF's CR removed).
    var lines: [Substring] {
        Substring(self).split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" }).map {
            $0.hasSuffix("\r") ? $0.dropLast() : $0
        }
    }
}
