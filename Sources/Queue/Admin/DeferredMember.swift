import RelayCore

/// One member of the `deferred` sorted set, as `MessageQueue.complete` writes it and
/// `hk_promote` reads it — written and read only here:
///
/// ```
/// entry_id TAB pool TAB domain TAB qid TAB attempts TAB accepted_ms TAB rcpt LF rcpt … [TAB egress_ip]
/// ```
///
/// `egress_ip`, when present, is the IP the retry is pinned to (a greylisting server refused
/// the attempt from it); `hk_promote` carries it into the stream entry as `p`.
struct DeferredMember: Sendable, Hashable {
    /// The member exactly as stored (needed to remove it).
    var rawValue: String
    var pool: PoolName
    var domain: DomainName
    var queueID: QueueID
    /// Delivery attempts made so far.
    var attempts: Int
    /// The recipients still to deliver, as stored (`EnvelopeCoding`): one per line.
    var recipients: [String]
    /// The egress IP the retry is pinned to, if any.
    var pinnedEgress: EgressID?

    /// A member for work to retry.
    init(
        entryID: String, pool: PoolName, domain: DomainName, queueID: QueueID, attempts: Int, acceptedAt: Int64, recipients: [String],
        pinnedEgress: EgressID? = nil
    ) {
        rawValue =
            [
                entryID, pool.rawValue, domain.rawValue, queueID.rawValue, String(attempts), String(acceptedAt),
                recipients.joined(separator: "\n"),
            ].joined(separator: "\t") + (pinnedEgress.map { "\t\($0.rawValue)" } ?? "")
        self.pinnedEgress = pinnedEgress
        self.pool = pool
        self.domain = domain
        self.queueID = queueID
        self.attempts = attempts
        self.recipients = recipients
    }

    /// Nil when `rawValue` does not have the seven fields (or eight, pinned).
    init?(rawValue: String) {
        let parts = rawValue.split(separator: "\t", maxSplits: 7, omittingEmptySubsequences: false)
        guard parts.count == 7 || parts.count == 8 else { return nil }
        pinnedEgress = parts.count == 8 ? EgressID(rawValue: String(parts[7])) : nil
        self.rawValue = rawValue
        pool = PoolName(rawValue: String(parts[1]))
        domain = DomainName(rawValue: String(parts[2]))
        queueID = QueueID(rawValue: String(parts[3]))
        attempts = Int(parts[4]) ?? 0
        recipients = parts[6].split(separator: "\n").map(String.init)
    }

    /// Whether it belongs to `pool` and `domain` (nil: any).
    func matches(pool: PoolName?, domain: DomainName?) -> Bool {
        (pool == nil || pool == self.pool) && (domain == nil || domain == self.domain)
    }
}
