import NIOCore
import SMTPProtocol

/// The author fields of a message's header section: `From:` (RFC 5322 §3.6.2, exactly
/// one) and `Sender:` (at most one), as read by ``MessageAssembler``.
struct AuthorFields: Sendable, Hashable {
    var from: [String] = []
    var sender: [String] = []
    /// False when the header section was longer than ``MessageAssembler/maxHeaderScan``:
    /// fields past that point were not seen.
    var isComplete = true

    init(from: [String] = [], sender: [String] = [], isComplete: Bool = true) {
        self.from = from
        self.sender = sender
        self.isComplete = isComplete
    }

    init(header: ByteBufferView.SubSequence, isComplete: Bool) {
        let values = HeaderFields.values(named: ["from", "sender"], in: header)
        self.init(from: values["from"] ?? [], sender: values["sender"] ?? [], isComplete: isComplete)
    }
}

/// The end-of-data check that an account with sending domains writes only its own
/// addresses into the fields receivers show as the author (DMARC aligns on `From:`,
/// RFC 7489 §3.1; `Sender:` is shown by many programs as "on behalf of").
///
/// ```
/// C: From: news@acme.example
/// C: From: ceo@bank.example                  (a second From)
/// C: .
/// S: 550 5.6.0 Message must have exactly one From: header field (it has 2)
/// C: From: Acme <news@acme.example>, ceo@bank.example
/// C: .
/// S: 550 5.7.1 From: header domain bank.example is not a sending domain of account acme
/// ```
/// Allow-listed networks (no account) and `--any-sender` accounts are not checked.
enum HeaderPolicy {
    static func refusal(for fields: AuthorFields, policy: SenderPolicy) -> SMTPReply? {
        guard policy.allowedDomains != nil else { return nil }
        guard fields.isComplete else {
            return SMTPReply(
                550, "5.6.0", "Message header section is longer than \(MessageAssembler.maxHeaderScan) octets and cannot be checked")
        }
        // RFC 5322 §3.6: exactly one From, at most one Sender.
        guard fields.from.count == 1 else {
            return SMTPReply(550, "5.6.0", "Message must have exactly one From: header field (it has \(fields.from.count))")
        }
        guard fields.sender.count <= 1 else {
            return SMTPReply(550, "5.6.0", "Message must have at most one Sender: header field (it has \(fields.sender.count))")
        }
        for (name, value) in [("From", fields.from[0])] + fields.sender.map { ("Sender", $0) } {
            let domains = FromHeader.domains(of: value)
            guard !domains.isEmpty else {
                return SMTPReply(550, "5.6.0", "\(name): header field holds no address")
            }
            let foreign = domains.filter { !policy.allows(domain: $0) }
            if !foreign.isEmpty {
                let shown = Array(Set(foreign)).sorted().map { $0.isEmpty ? "(empty)" : printable($0) }.joined(separator: ", ")
                return SMTPReply(550, "5.7.1", "\(name): header domain \(shown) is not a sending domain of account \(policy.accountName)")
            }
        }
        return nil
    }

    /// A domain as it may appear in a reply line: printable ASCII, at most 100 characters.
    private static func printable(_ domain: String) -> String {
        String(String.UnicodeScalarView(domain.unicodeScalars.prefix(100).map { (33...126).contains($0.value) ? $0 : "?" }))
    }
}
