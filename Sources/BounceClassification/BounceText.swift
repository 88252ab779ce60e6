/// An enhanced status code `class.subject.detail` (RFC 3463 §2).
public struct EnhancedStatus: Sendable, Hashable, CustomStringConvertible {
    public var codeClass: Int
    public var subject: Int
    public var detail: Int

    public init(codeClass: Int, subject: Int, detail: Int) {
        self.codeClass = codeClass
        self.subject = subject
        self.detail = detail
    }

    public var description: String { "\(codeClass).\(subject).\(detail)" }
}

/// What the classifier reads from a reply: its basic code and enhanced status, if any.
///
/// The reply is either an SMTP reply as the relay records it (`550 5.1.1 <x@y>: user
/// unknown`), a DSN's `Diagnostic-Code` (`smtp; 550-5.1.1 The email account …`), or a DSN's
/// `Status` followed by its diagnostic (`5.1.1 …`). Servers without enhanced codes
/// (`550 Unknown user`, qmail's `… (#5.1.1)`) are read too: the first well-delimited
/// `d.d.d` token anywhere counts.
struct ReplyStatus: Equatable {
    /// The three-digit reply code at the start (RFC 5321 §4.2), if there is one.
    var code: Int?
    var enhanced: EnhancedStatus?

    init(_ reply: [UInt8]) {
        var index = 0
        func skipSpace() { while index < reply.count && (reply[index] == 0x20 || reply[index] == 0x09) { index += 1 } }
        skipSpace()
        // A DSN diagnostic's type (RFC 3464 §2.3.6): `smtp;`.
        if reply.count - index >= 5, reply[index..<index + 4].map({ $0 | 0x20 }) == Array("smtp".utf8), reply[index + 4] == 0x3B {
            index += 5
            skipSpace()
        }
        if reply.count - index >= 3, (0x32...0x35).contains(reply[index]), BounceText.isDigit(reply, index + 1),
            BounceText.isDigit(reply, index + 2), !BounceText.isDigit(reply, index + 3), !BounceText.isByte(reply, index + 3, 0x2E)
        {
            code = (Int(reply[index]) - 48) * 100 + (Int(reply[index + 1]) - 48) * 10 + Int(reply[index + 2]) - 48
            index += 3
            if index < reply.count && reply[index] == 0x2D { index += 1 }  // `550-5.1.1` continuation
            skipSpace()
        }
        enhanced = Self.status(in: reply, at: index).map(\.0) ?? Self.firstStatus(in: reply)
    }

    /// A status token starting exactly at `start`, and where it ends.
    static func status(in bytes: [UInt8], at start: Int) -> (EnhancedStatus, Int)? {
        guard start < bytes.count, [0x32, 0x34, 0x35].contains(bytes[start]), BounceText.isByte(bytes, start + 1, 0x2E) else { return nil }
        var index = start + 2
        func number() -> Int? {
            var value = 0
            var digits = 0
            while digits < 4 && BounceText.isDigit(bytes, index) {
                value = value * 10 + Int(bytes[index]) - 48
                digits += 1
                index += 1
            }
            return (1...3).contains(digits) ? value : nil
        }
        guard let subject = number(), BounceText.isByte(bytes, index, 0x2E) else { return nil }
        index += 1
        guard let detail = number() else { return nil }
        // Not part of a longer dotted number (an IP address, a version).
        if BounceText.isDigit(bytes, index) || (BounceText.isByte(bytes, index, 0x2E) && BounceText.isDigit(bytes, index + 1)) {
            return nil
        }
        return (EnhancedStatus(codeClass: Int(bytes[start]) - 48, subject: subject, detail: detail), index)
    }

    /// The first status token anywhere that does not continue a longer dotted number.
    static func firstStatus(in bytes: [UInt8]) -> EnhancedStatus? {
        for start in bytes.indices {
            if start > 0 && (BounceText.isDigit(bytes, start - 1) || bytes[start - 1] == 0x2E) { continue }
            if let (found, _) = status(in: bytes, at: start), found.codeClass != 2 { return found }
        }
        return nil
    }
}

/// Text folding for the patterns and the replies they are matched against.
enum BounceText {
    /// Lower case, every run of white space (and CR, LF) one space, without leading and
    /// trailing space: a reply folded over several lines matches a pattern written on one.
    static func fold(_ text: some StringProtocol) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(text.utf8.count)
        var space = false
        for byte in text.lowercased().utf8 {
            if byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D {
                space = !out.isEmpty
            } else {
                if space { out.append(0x20) }
                space = false
                out.append(byte)
            }
        }
        return out
    }

    /// Whether `parts` occur in `text` in this order, without overlapping.
    static func matches(_ parts: [[UInt8]], in text: [UInt8]) -> Bool {
        var from = 0
        for part in parts {
            guard let end = find(part, in: text, from: from) else { return false }
            from = end
        }
        return true
    }

    /// Where the first occurrence of `needle` at or after `from` ends.
    static func find(_ needle: [UInt8], in haystack: [UInt8], from: Int) -> Int? {
        guard let first = needle.first, haystack.count - from >= needle.count else { return nil }
        var start = from
        let last = haystack.count - needle.count
        while start <= last {
            if haystack[start] == first {
                var offset = 1
                while offset < needle.count && haystack[start + offset] == needle[offset] { offset += 1 }
                if offset == needle.count { return start + needle.count }
            }
            start += 1
        }
        return nil
    }

    static func isDigit(_ bytes: [UInt8], _ index: Int) -> Bool {
        index < bytes.count && (0x30...0x39).contains(bytes[index])
    }

    static func isByte(_ bytes: [UInt8], _ index: Int, _ byte: UInt8) -> Bool {
        index < bytes.count && bytes[index] == byte
    }
}
