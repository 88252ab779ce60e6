import SMTPProtocol

/// A site's answer to one `RCPT TO`.
enum RecipientDecision: Hashable, Sendable {
    /// `250 2.1.5`. When the transaction had not yet been counted against `per_ip_rate`,
    /// it is now.
    case accept
    /// Refused with this reply.
    case refuse(SMTPReply, RefusalReason)
}
