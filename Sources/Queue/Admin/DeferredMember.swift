/// One member of the `deferred` sorted set, as `MessageQueue.complete` writes it and
/// `hk_promote` reads it:
///
/// ```
/// entry_id TAB pool TAB domain TAB qid TAB attempts TAB accepted_ms TAB rcpt LF rcpt …
/// ```
struct DeferredMember: Sendable, Hashable {
    /// The member exactly as stored (needed to remove it).
    var raw: String
    var pool: String
    var domain: String
    var queueID: String
    /// Delivery attempts made so far.
    var attempts: Int
    var recipients: [String]

    /// Nil when `raw` does not have the seven fields.
    init?(_ raw: String) {
        let parts = raw.split(separator: "\t", maxSplits: 6, omittingEmptySubsequences: false)
        guard parts.count == 7 else { return nil }
        self.raw = raw
        pool = String(parts[1])
        domain = String(parts[2])
        queueID = String(parts[3])
        attempts = Int(parts[4]) ?? 0
        recipients = parts[6].split(separator: "\n").map(String.init)
    }

    /// Whether it belongs to `pool` and `domain` (nil: any).
    func matches(pool: String?, domain: String?) -> Bool {
        (pool == nil || pool == self.pool) && (domain == nil || domain == self.domain)
    }
}
