import RelayCore
import SMTPProtocol

/// How envelope addresses are written into Redis and read back — in this one place. Ingest
/// stores what it parsed from `MAIL FROM`/`RCPT TO` in its RFC 5321 form (`local@domain`,
/// the local part quoted when it is not a Dot-string, §4.1.2); a worker reads it back with
/// the same grammar. `Mailbox(parsing: m.description) == m` for every mailbox the command
/// parser accepts (EnvelopeCodingTests), so what comes back is what went in.
enum EnvelopeCoding {
    /// The `sender` field: the mailbox, or empty for the null reverse-path `<>`.
    static func field(_ sender: ReversePath) -> String {
        sender.mailbox?.description ?? ""
    }

    static func sender(field: String) -> ReversePath? {
        if field.isEmpty { return .null }
        return Mailbox(parsing: field).map(ReversePath.mailbox)
    }

    /// The `r` field of a work entry, and the recipients of a deferred member: one per line.
    static func field(_ recipients: [Mailbox]) -> String {
        recipients.map(\.description).joined(separator: "\n")
    }

    /// nil when any line is not a mailbox (the entry was not written by this relay).
    static func recipients(field: some StringProtocol) -> [Mailbox]? {
        var out: [Mailbox] = []
        for line in field.split(separator: "\n") {
            guard let mailbox = Mailbox(parsing: String(line)) else { return nil }
            out.append(mailbox)
        }
        return out
    }
}

extension Mailbox {
    /// The queue's destination for this recipient: its domain, normalised.
    public var destination: DomainName { DomainName(normalizing: domain) }
}
