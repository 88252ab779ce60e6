/// Checks of the draft's structured strings, each error naming the field.
enum Validation {
    /// RFC 5321 §4.5.3.1.3: a path is at most 256 octets with its angle brackets.
    static let maximumAddressLength = 254
    /// Generous bounds for the identifiers and the date; they keep every header line short.
    static let maximumIdentifierLength = 250
    static let maximumDateLength = 100
    /// A field name long enough for any real one, short enough that `name: ` plus a token
    /// stays far below 998 octets.
    static let maximumFieldNameLength = 76
    /// A word of an ASCII custom header value is written as is and cannot be folded.
    static let maximumValueWordLength = 900

    /// The addr-spec as written in a header (RFC 5322 §3.4.1): the local part as is when it
    /// is a dot-atom, else as a quoted-string; UTF-8 allowed (RFC 6532 §3.2).
    static func addrSpec(_ address: String, field: String) throws(CompositionError) -> String {
        func fail(_ message: String) -> CompositionError { CompositionError(field: field, message: message) }
        guard address.utf8.count <= maximumAddressLength else {
            throw fail("is longer than \(maximumAddressLength) octets (RFC 5321 §4.5.3.1.3)")
        }
        if address.contains(where: \.isWhitespace) { throw fail("must not contain whitespace") }
        for byte in address.utf8 where byte < 0x20 || byte == 0x7F || byte == UInt8(ascii: "<") || byte == UInt8(ascii: ">") {
            throw fail("must not contain control characters, < or >")
        }
        let parts = address.split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count == 2 else { throw fail("must be local@domain with exactly one @") }
        let (local, domain) = (parts[0], parts[1])
        guard !local.isEmpty, !domain.isEmpty else { throw fail("must have a local part and a domain") }
        let isLiteral =
            domain.hasPrefix("[") && domain.hasSuffix("]") && domain.count > 2
            && !domain.dropFirst().dropLast().contains { "[]\\".contains($0) }
        guard HeaderText.isDotAtom(domain) || isLiteral else {
            throw fail("has an invalid domain")
        }
        let writtenLocal = HeaderText.isDotAtom(local) ? String(local) : HeaderText.quoted(String(local))
        return writtenLocal + "@" + domain
    }

    /// A Message-ID without its angle brackets: `id-left@id-right` (RFC 5322 §3.6.4).
    static func messageID(_ id: String, field: String) throws(CompositionError) {
        try identifier(id, field: field)
        let parts = id.split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else {
            throw CompositionError(field: field, message: "must be id-left@id-right with exactly one @ (RFC 5322 §3.6.4)")
        }
    }

    /// A msg-id or Content-ID (RFC 2392) body: printable ASCII without whitespace, angle
    /// brackets, quotes, backslash, parentheses, comma, colon or semicolon.
    static func identifier(_ id: String, field: String) throws(CompositionError) {
        guard !id.isEmpty, id.utf8.count <= maximumIdentifierLength else {
            throw CompositionError(field: field, message: "must be 1 to \(maximumIdentifierLength) octets")
        }
        for byte in id.utf8 where byte <= 0x20 || byte >= 0x7F || "<>\"\\(),:;".utf8.contains(byte) {
            throw CompositionError(field: field, message: "must be printable ASCII without spaces or <>\"\\(),:;")
        }
    }

    /// The Date value: printable ASCII words (RFC 5322 §3.3); its syntax is the caller's.
    static func date(_ date: String, field: String) throws(CompositionError) {
        guard !date.isEmpty, date.utf8.count <= maximumDateLength, date.utf8.allSatisfy({ $0 >= 0x20 && $0 < 0x7F }) else {
            throw CompositionError(field: field, message: "must be an RFC 5322 date-time in printable ASCII")
        }
    }

    /// `type/subtype` (RFC 2045 §5.1), both tokens. Multipart and message types are refused:
    /// they may not be base64-encoded (RFC 2045 §6.4, RFC 2046 §5.2.1).
    static func contentType(_ type: String, field: String) throws(CompositionError) {
        let parts = type.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, parts.allSatisfy({ !$0.isEmpty && $0.utf8.count <= 127 && $0.utf8.allSatisfy(isToken) }) else {
            throw CompositionError(field: field, message: "must be type/subtype (RFC 2045 §5.1) without parameters")
        }
        let major = parts[0].lowercased()
        guard major != "multipart", major != "message" else {
            throw CompositionError(field: field, message: "\(major)/* cannot be attached base64-encoded; use application/octet-stream")
        }
    }

    /// RFC 2045 §5.1 token characters.
    static func isToken(_ byte: UInt8) -> Bool {
        byte > 0x20 && byte < 0x7F && !"()<>@,;:\\\"/[]?=".utf8.contains(byte)
    }

    /// Fields the composer writes itself or the relay owns (trace and signatures, RFC 5321
    /// §4.4, RFC 6376); a custom copy would duplicate or forge them.
    static let reservedFieldNames: Set<String> = [
        "from", "to", "cc", "bcc", "reply-to", "subject", "date", "message-id", "mime-version", "received", "return-path",
        "dkim-signature",
    ]

    /// A custom field name: 1*ftext (RFC 5322 §3.6.8), not reserved.
    static func customFieldName(_ name: String, field: String) throws(CompositionError) {
        guard !name.isEmpty, name.utf8.count <= maximumFieldNameLength,
            name.utf8.allSatisfy({ $0 >= 33 && $0 <= 126 && $0 != UInt8(ascii: ":") })
        else {
            throw CompositionError(
                field: field, message: "must be 1 to \(maximumFieldNameLength) printable ASCII characters without a colon (RFC 5322 §3.6.8)"
            )
        }
        let lowered = name.lowercased()
        if reservedFieldNames.contains(lowered) || lowered.hasPrefix("content-") {
            throw CompositionError(field: field, message: "\(name) is set by the composer or the relay and cannot be given")
        }
    }
}
