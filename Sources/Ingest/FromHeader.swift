/// The author domains of a `From:` header field value (RFC 5322 §3.6.2: a mailbox-list),
/// for the account check that a tenant sends only as its own domains (the domain DMARC
/// aligns on, RFC 7489 §3.1). Quoted strings and comments are removed first, so
/// `"ceo@bank.example" <x@spam.example>` yields `spam.example`, not `bank.example`.
enum FromHeader {
    static func domains(of value: String) -> [String] {
        var plain = ""
        var inQuote = false
        var commentDepth = 0
        var escaped = false
        for character in value {
            if escaped { escaped = false; continue }
            if (inQuote || commentDepth > 0) && character == "\\" { escaped = true; continue }
            if inQuote {
                if character == "\"" { inQuote = false }
                continue
            }
            if character == "(" { commentDepth += 1; continue }
            if commentDepth > 0 {
                if character == ")" { commentDepth -= 1 }
                continue
            }
            if character == "\"" { inQuote = true; continue }
            plain.append(character)
        }
        var domains: [String] = []
        for mailbox in plain.split(separator: ",") {
            var address = Substring(mailbox)
            if let open = address.lastIndex(of: "<"), let close = address[open...].firstIndex(of: ">") {
                address = address[address.index(after: open)..<close]
            }
            guard let at = address.lastIndex(of: "@") else { continue }
            var domain = String(address[address.index(after: at)...]).trimmingCharacters(in: " \t\r\n>").lowercased()
            while domain.hasSuffix(".") { domain.removeLast() }
            if !domain.isEmpty { domains.append(domain) }
        }
        return domains
    }
}
