/// Parsers for the address productions of RFC 5321 §4.1.2 and §4.1.3, extended for
/// SMTPUTF8 (RFC 6531 §3.3). Each returns `nil` on a syntax error; callers turn that into
/// the reply that fits (`501 5.1.7`, `501 5.1.3`).
enum AddressGrammar {
    /// Maximum length of a domain name in octets (RFC 5321 §4.5.3.1.2).
    static let maximumDomainLength = 255
    /// Maximum length of one DNS label in octets (RFC 1035 §2.3.4).
    static let maximumLabelLength = 63

    /// `Mailbox = Local-part "@" ( Domain / address-literal )`.
    static func parseMailbox(_ cursor: inout ByteCursor) -> Mailbox? {
        guard let localPart = self.parseLocalPart(&cursor), cursor.consume(ASCII.at) else {
            return nil
        }
        let domain: String?
        if cursor.peek() == ASCII.openBracket {
            domain = self.parseAddressLiteral(&cursor)
        } else {
            domain = self.parseDomain(&cursor, allowTrailingDot: true)
        }
        guard let domain else { return nil }
        return Mailbox(localPart: localPart, domain: domain)
    }

    /// `Local-part = Dot-string / Quoted-string`; returns the unquoted value.
    static func parseLocalPart(_ cursor: inout ByteCursor) -> String? {
        if cursor.peek() == ASCII.quote {
            return self.parseQuotedString(&cursor)
        }
        return self.parseDotString(&cursor)
    }

    /// `Dot-string = Atom *("." Atom)`.
    static func parseDotString(_ cursor: inout ByteCursor) -> String? {
        var bytes: [UInt8] = []
        repeat {
            let atomStart = bytes.count
            while let byte = cursor.peek(), ASCII.isAtext(byte) {
                bytes.append(byte)
                _ = cursor.next()
            }
            guard bytes.count > atomStart else { return nil }
            guard cursor.peek() == ASCII.dot else { break }
            _ = cursor.next()
            bytes.append(ASCII.dot)
        } while true
        return String(validating: bytes, as: UTF8.self)
    }

    /// `Quoted-string = DQUOTE *QcontentSMTP DQUOTE`, where
    /// `qtextSMTP = %d32-33 / %d35-91 / %d93-126 / UTF8-non-ascii` and
    /// `quoted-pairSMTP = %d92 %d32-126`.
    static func parseQuotedString(_ cursor: inout ByteCursor) -> String? {
        guard cursor.consume(ASCII.quote) else { return nil }
        var bytes: [UInt8] = []
        while let byte = cursor.next() {
            switch byte {
            case ASCII.quote:
                return String(validating: bytes, as: UTF8.self)
            case ASCII.backslash:
                guard let escaped = cursor.next(), (0x20...0x7E).contains(escaped) else { return nil }
                bytes.append(escaped)
            case 0x20...0x7E, 0x80...0xFF:
                bytes.append(byte)
            default:
                return nil
            }
        }
        return nil
    }

    /// `Domain = sub-domain *("." sub-domain)`, `sub-domain = Let-dig [Ldh-str]` or a
    /// U-label (RFC 6531 §3.3). One trailing dot is accepted when `allowTrailingDot`.
    static func parseDomain(_ cursor: inout ByteCursor, allowTrailingDot: Bool) -> String? {
        var bytes: [UInt8] = []
        var labelStart = 0
        while true {
            while let byte = cursor.peek(), ASCII.isAlpha(byte) || ASCII.isDigit(byte) || byte == ASCII.hyphen || byte >= 0x80 {
                bytes.append(byte)
                _ = cursor.next()
            }
            guard self.isValidLabel(bytes[labelStart...]) else { return nil }
            guard cursor.peek() == ASCII.dot else { break }
            _ = cursor.next()
            bytes.append(ASCII.dot)
            labelStart = bytes.count
            if allowTrailingDot, !self.isLabelByte(cursor.peek()) {
                break
            }
        }
        guard bytes.count <= self.maximumDomainLength else { return nil }
        return String(validating: bytes, as: UTF8.self)
    }

    private static func isLabelByte(_ byte: UInt8?) -> Bool {
        guard let byte else { return false }
        return ASCII.isAlpha(byte) || ASCII.isDigit(byte) || byte == ASCII.hyphen || byte >= 0x80
    }

    private static func isValidLabel(_ label: ArraySlice<UInt8>) -> Bool {
        guard let first = label.first, let last = label.last, first != ASCII.hyphen, last != ASCII.hyphen else {
            return false
        }
        // U-labels are limited in their A-label form, which we do not compute here.
        return label.count <= self.maximumLabelLength || label.contains { $0 >= 0x80 }
    }

    /// `address-literal = "[" ( IPv4-address-literal / IPv6-address-literal /
    /// General-address-literal ) "]"` (RFC 5321 §4.1.3); returned with its brackets.
    static func parseAddressLiteral(_ cursor: inout ByteCursor) -> String? {
        guard cursor.consume(ASCII.openBracket) else { return nil }
        var content: [UInt8] = []
        while let byte = cursor.next() {
            if byte == ASCII.closeBracket {
                guard self.isValidAddressLiteralContent(content) else { return nil }
                return "[" + String(decoding: content, as: UTF8.self) + "]"
            }
            // dcontent = %d33-90 / %d94-126
            guard (33...90).contains(byte) || (94...126).contains(byte) else { return nil }
            content.append(byte)
        }
        return nil
    }

    static func isValidAddressLiteralContent(_ content: [UInt8]) -> Bool {
        guard let colon = content.firstIndex(of: ASCII.colon) else {
            return self.isValidIPv4(content[...])
        }
        let tag = content[..<colon]
        let value = content[(colon + 1)...]
        if ASCII.uppercasedString(tag) == "IPV6" {
            return IPv6Literal.isValid(value)
        }
        // General-address-literal = Standardized-tag ":" 1*dcontent; Standardized-tag = Ldh-str
        guard let first = tag.first, let last = tag.last, !value.isEmpty else { return false }
        return (ASCII.isAlpha(first) || ASCII.isDigit(first)) && (ASCII.isAlpha(last) || ASCII.isDigit(last))
            && tag.allSatisfy { ASCII.isAlpha($0) || ASCII.isDigit($0) || $0 == ASCII.hyphen }
    }

    /// `IPv4-address-literal = Snum 3("."  Snum)`, `Snum = 1*3DIGIT` with a value 0-255.
    static func isValidIPv4(_ text: ArraySlice<UInt8>) -> Bool {
        let parts = text.split(separator: ASCII.dot, omittingEmptySubsequences: false)
        guard parts.count == 4 else { return false }
        for part in parts {
            guard (1...3).contains(part.count), part.allSatisfy(ASCII.isDigit) else { return false }
            let value = part.reduce(0) { $0 * 10 + Int($1 - 0x30) }
            guard value <= 255 else { return false }
        }
        return true
    }

    /// Writes a local part as a Dot-string when it is one, else as a Quoted-string
    /// (RFC 5321 §4.1.2: "a Quoted-string ... SHOULD NOT be used unless necessary").
    static func encodeLocalPart(_ localPart: String) -> String {
        if self.isDotString(localPart) {
            return localPart
        }
        var quoted = "\""
        for character in localPart.unicodeScalars {
            if character == "\"" || character == "\\" {
                quoted.unicodeScalars.append("\\")
            }
            quoted.unicodeScalars.append(character)
        }
        quoted += "\""
        return quoted
    }

    static func isDotString(_ text: String) -> Bool {
        let atoms = text.utf8.split(separator: ASCII.dot, omittingEmptySubsequences: false)
        return atoms.allSatisfy { !$0.isEmpty && $0.allSatisfy(ASCII.isAtext) }
    }
}
