/// What one mail transaction did for each of its recipients (RFC 5321 §3.3).
///
/// ```
/// C: MAIL FROM:<a@example.com>     S: 250 2.1.0 Ok
/// C: RCPT TO:<b@example.org>       S: 250 2.1.5 Ok        → b: .endOfData(250 2.0.0 queued)
/// C: RCPT TO:<c@example.org>       S: 550 5.1.1 No user   → c: .recipient(550 5.1.1 No user)
/// C: DATA                          S: 354 Go ahead
/// C: …content… .                   S: 250 2.0.0 queued
/// ```
public struct SMTPTransactionOutcome: Hashable, Sendable {
    /// One outcome per recipient, in the order the recipients were given.
    public var recipients: [SMTPRecipientOutcome]

    public init(recipients: [SMTPRecipientOutcome]) {
        self.recipients = recipients
    }

    /// The distinct negative replies, for adaptive backoff.
    public var failureReplies: [SMTPReply] {
        var seen = Set<SMTPReply>()
        return recipients.map(\.reply).filter { !$0.isPositive && seen.insert($0).inserted }
    }
}

/// The reply that decided one recipient's fate, and which command it answered.
public struct SMTPRecipientOutcome: Hashable, Sendable {
    /// The command whose reply decided.
    public enum Stage: Hashable, Sendable {
        /// MAIL FROM was refused: it applies to every recipient (RFC 5321 §4.1.1.2).
        case mail
        /// RCPT TO was refused (RFC 5321 §4.1.1.3).
        case recipient
        /// RCPT was accepted but DATA was refused: it applies to every accepted recipient.
        case data
        /// The reply to the end of data (RFC 5321 §4.1.1.4): delivered, or refused.
        case endOfData
    }

    public var recipient: ForwardPath
    public var reply: SMTPReply
    public var stage: Stage

    public init(recipient: ForwardPath, reply: SMTPReply, stage: Stage) {
        self.recipient = recipient
        self.reply = reply
        self.stage = stage
    }

    /// `2yz` to the end of data: the server took responsibility for the message (RFC 5321 §6.1).
    public var isDelivered: Bool {
        stage == .endOfData && reply.code >= 200 && reply.code < 300
    }
}
