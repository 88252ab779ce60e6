/// Why the simulator refused a recipient, as written in the `reason` field of a record.
enum RefusalReason: String, CaseIterable, Hashable, Sendable {
    /// `per_ip_rate` exceeded: a limit violation by the sender.
    case rateLimit = "rate_limit"
    /// The IP is inside a `block_after_excess` period.
    case blocked
    case unknownUser = "unknown_user"
    case mailboxFull = "mailbox_full"
    case greylisted
    /// The connection was closed after the end of data instead of answering
    /// (`drop_connection_probability`).
    case dropped
}
