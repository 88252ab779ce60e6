/// Small scanners over report text: mail addresses, enhanced status codes (RFC 3463),
/// SMTP reply codes. Hand-written (no regular expressions) so that their cost is linear in
/// the input however hostile it is.
enum TextScan {
    private static let localSpecials = Set("!#$%&'*+-/=?^_`{|}~.".unicodeScalars)

    private static func isLocal(_ scalar: Unicode.Scalar) -> Bool {
        scalar.isASCII && (scalar.properties.isAlphabetic || ("0"..."9").contains(scalar) || localSpecials.contains(scalar))
    }

    private static func isDomain(_ scalar: Unicode.Scalar) -> Bool {
        scalar.isASCII && (scalar.properties.isAlphabetic || ("0"..."9").contains(scalar) || scalar == "-" || scalar == ".")
    }

    /// The addresses (`local@domain.tld`) in `line`, in order, each with the offset (in
    /// Unicode scalars) just past it. The domain needs a dot and an alphabetic last label.
    static func addresses(in line: Substring) -> [(address: String, end: Int)] {
        let scalars = Array(line.unicodeScalars)
        var result: [(String, Int)] = []
        var index = 0
        while index < scalars.count {
            guard scalars[index] == "@" else {
                index += 1
                continue
            }
            var start = index
            while start > 0, isLocal(scalars[start - 1]) { start -= 1 }
            // Quotes and dots around a written address are not part of it, nor Exchange's
            // `SMTP=` / `smtp;` prefixes.
            while start < index, scalars[start] == "." || scalars[start] == "'" || scalars[start] == "`" { start += 1 }
            if index - start > 5, String(String.UnicodeScalarView(scalars[start..<(start + 5)])).lowercased() == "smtp=" { start += 5 }
            var end = index + 1
            while end < scalars.count, isDomain(scalars[end]) { end += 1 }
            var domainEnd = end
            while domainEnd > index + 1, scalars[domainEnd - 1] == "." || scalars[domainEnd - 1] == "-" { domainEnd -= 1 }
            let local = String(String.UnicodeScalarView(scalars[start..<index]))
            let domain = String(String.UnicodeScalarView(scalars[(index + 1)..<domainEnd]))
            if isPlausible(local: local, domain: domain) {
                result.append((local + "@" + domain, end))
            }
            index = max(end, index + 1)
        }
        return result
    }

    static func isPlausible(local: String, domain: String) -> Bool {
        guard !local.isEmpty, local.utf8.count <= 64, domain.utf8.count <= 255, !local.hasSuffix(".") else { return false }
        let labels = domain.split(separator: ".", omittingEmptySubsequences: false)
        guard labels.count >= 2, labels.allSatisfy({ !$0.isEmpty && $0.utf8.count <= 63 }) else { return false }
        guard let last = labels.last, last.count >= 2, last.unicodeScalars.allSatisfy({ $0.properties.isAlphabetic }) else {
            return false
        }
        return true
    }

    /// A single address given as a report field: `rfc822; <user@example.com>` →
    /// `user@example.com`; the type prefix and angle brackets are removed.
    static func fieldAddress(_ value: String) -> String? {
        var text = Substring(value)
        if let semicolon = text.firstIndex(of: ";") { text = text[text.index(after: semicolon)...] }
        var address = text.trimmed
        if address.hasPrefix("<") { address.removeFirst() }
        if address.hasSuffix(">") { address.removeLast() }
        address = address.trimmed
        return address.isEmpty || address.utf8.count > 512 ? nil : address
    }

    /// The first enhanced status code (`class.subject.detail`, class 2, 4 or 5) in `text`.
    static func enhancedStatus(in text: some StringProtocol) -> String? {
        let bytes = Array(text.utf8.prefix(4096))
        var index = 0
        func isDigit(_ byte: UInt8) -> Bool { byte >= 0x30 && byte <= 0x39 }
        while index < bytes.count {
            let byte = bytes[index]
            let boundaryBefore = index == 0 || !(isDigit(bytes[index - 1]) || bytes[index - 1] == 0x2E)
            if boundaryBefore, byte == 0x32 || byte == 0x34 || byte == 0x35, index + 1 < bytes.count, bytes[index + 1] == 0x2E {
                var cursor = index + 2
                var first = 0
                while cursor < bytes.count, isDigit(bytes[cursor]), first < 3 {
                    cursor += 1
                    first += 1
                }
                if first > 0, cursor < bytes.count, bytes[cursor] == 0x2E {
                    cursor += 1
                    var second = 0
                    while cursor < bytes.count, isDigit(bytes[cursor]), second < 3 {
                        cursor += 1
                        second += 1
                    }
                    let boundaryAfter = cursor == bytes.count || !isDigit(bytes[cursor])
                    let notIPAddress =
                        cursor == bytes.count || bytes[cursor] != 0x2E || cursor + 1 == bytes.count || !isDigit(bytes[cursor + 1])
                    if second > 0, boundaryAfter, notIPAddress {
                        return String(decoding: bytes[index..<cursor], as: UTF8.self)
                    }
                }
            }
            index += 1
        }
        return nil
    }

    /// The first SMTP reply code (4xx or 5xx, standing alone) in `text`.
    static func replyCode(in text: some StringProtocol) -> String? {
        let bytes = Array(text.utf8.prefix(4096))
        func isDigit(_ byte: UInt8) -> Bool { byte >= 0x30 && byte <= 0x39 }
        var index = 0
        while index + 3 <= bytes.count {
            if bytes[index] == 0x34 || bytes[index] == 0x35, isDigit(bytes[index + 1]), isDigit(bytes[index + 2]),
                index == 0 || !(isDigit(bytes[index - 1]) || bytes[index - 1] == 0x2E || bytes[index - 1] == 0x3A),
                index + 3 == bytes.count || bytes[index + 3] == 0x20 || bytes[index + 3] == 0x2D
            {
                return String(decoding: bytes[index..<(index + 3)], as: UTF8.self)
            }
            index += 1
        }
        return nil
    }

    /// The status a diagnostic text implies: its enhanced code, else `X.0.0` from its
    /// reply code.
    static func status(fromDiagnostic text: String?) -> String? {
        guard let text else { return nil }
        if let status = enhancedStatus(in: text) { return status }
        if let code = replyCode(in: text), let first = code.first { return "\(first).0.0" }
        return nil
    }

    /// `text` lower-cased (ASCII only: cheap, and the phrases matched are ASCII).
    static func lowercasedASCII(_ text: some StringProtocol) -> String {
        String(String.UnicodeScalarView(text.unicodeScalars.map { ("A"..."Z").contains($0) ? Unicode.Scalar($0.value + 32)! : $0 }))
    }

    /// Removes HTML tags and the common entities: enough to read an HTML-only bounce's text.
    static func htmlToText(_ html: String) -> String {
        var result = ""
        var inTag = false
        var tag = ""
        for character in html {
            if inTag {
                if character == ">" {
                    inTag = false
                    let name = lowercasedASCII(tag).trimming("/ ")
                    if name.hasPrefix("br") || name.hasPrefix("p") || name.hasPrefix("div") || name.hasPrefix("tr")
                        || name.hasPrefix("li")
                    {
                        result += "\n"
                    }
                } else if tag.utf8.count < 64 {
                    tag.append(character)
                }
            } else if character == "<" {
                inTag = true
                tag = ""
            } else {
                result.append(character)
            }
        }
        var decoded = ""
        var rest = Substring(result)
        while let amp = rest.firstIndex(of: "&") {
            decoded += rest[..<amp]
            rest = rest[amp...]
            let entity = [("&lt;", "<"), ("&gt;", ">"), ("&quot;", "\""), ("&#64;", "@"), ("&nbsp;", " "), ("&amp;", "&")].first {
                rest.hasPrefix($0.0)
            }
            decoded += entity?.1 ?? "&"
            rest = rest.dropFirst(entity?.0.count ?? 1)
        }
        return decoded + rest
    }
}
