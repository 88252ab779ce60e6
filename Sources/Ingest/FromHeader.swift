import RelayCore

/// The domains of the addresses in a `From:` or `Sender:` field value, for the account
/// check that a tenant sends only as its own domains (the author domain DMARC aligns on,
/// RFC 7489 §3.1).
///
/// Strict on purpose: every `@domain` outside comments and quoted strings counts, so
/// whatever a receiving program takes for an address is among them — each mailbox of a
/// mailbox-list (RFC 5322 §3.6.2), each member of a group (RFC 6854 allows groups in
/// `From:`), the hops of an obsolete route (`<@a.example,@b.example:u@c.example>`,
/// §4.4), and an `@` inside a malformed encoded word (RFC 2047) too. Quoted strings and
/// comments (§3.2.4, §3.2.2) are dropped first, so `"ceo@bank.example" <x@spam.example>`
/// yields `spam.example`, and a quoted local part `"a@b"@spam.example` yields
/// `spam.example`.
enum FromHeader {
    static func domains(of value: String) -> [String] {
        let plain = withoutQuotedStringsAndComments(value)
        var domains: [String] = []
        var rest = Substring(plain)
        while let at = rest.firstIndex(of: "@") {
            rest = rest[rest.index(after: at)...]
            let end = rest.firstIndex(where: isDomainTerminator) ?? rest.endIndex
            // An empty domain (`x@ <y@ours>`) is kept: it is not an allowed one either.
            domains.append(DomainName(normalizing: rest[..<end]).rawValue)
            rest = rest[end...]
        }
        return domains
    }

    /// What ends the domain after an `@`: white space and the specials that may follow an
    /// addr-spec (RFC 5322 §3.2.3). A domain literal `[192.0.2.1]` stays whole (and is
    /// never a sending domain).
    private static func isDomainTerminator(_ character: Character) -> Bool {
        switch character {
        case " ", "\t", "\r", "\n", ">", "<", ",", ";", ":", "(", ")", "\"", "@": true
        default: false
        }
    }

    /// The value without quoted strings and (nested) comments; a backslash quotes the next
    /// character inside either (RFC 5322 §3.2.1). An unterminated one runs to the end.
    private static func withoutQuotedStringsAndComments(_ value: String) -> String {
        var plain = ""
        var inQuote = false
        var commentDepth = 0
        var escaped = false
        for character in value {
            if escaped {
                escaped = false
                continue
            }
            if (inQuote || commentDepth > 0) && character == "\\" {
                escaped = true
                continue
            }
            if inQuote {
                if character == "\"" { inQuote = false }
                continue
            }
            if character == "(" {
                commentDepth += 1
                continue
            }
            if commentDepth > 0 {
                if character == ")" { commentDepth -= 1 }
                continue
            }
            if character == "\"" {
                inQuote = true
                plain.append(" ")
                continue
            }
            plain.append(character)
        }
        return plain
    }
}
