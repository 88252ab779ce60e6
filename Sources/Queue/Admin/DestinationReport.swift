import RelayCore

/// One destination domain of a pool in a `QueueReport`.
public struct DestinationReport: Sendable, Hashable, Encodable {
    public var domain: DomainName
    /// Work entries in the stream (`XLEN q:<pool>:<domain>`): one per message, each with
    /// that message's recipients at the domain.
    public var queued: Int
    /// Of those, the entries a worker holds right now (`XPENDING` summary).
    public var claimed: Int
    /// Work items waiting for a retry (`deferred` members of this pool and domain).
    public var deferredItems: Int
    public var deferredRecipients: Int
    /// The earliest retry due (ms since 1970), if anything is deferred.
    public var nextRetryAt: Int64?
    /// When a worker may next take the domain (its score in `ready:<pool>`); nil when
    /// it is not in the ready index (nothing queued).
    public var readyAt: Int64?

    public init(
        domain: DomainName, queued: Int = 0, claimed: Int = 0, deferredItems: Int = 0, deferredRecipients: Int = 0,
        nextRetryAt: Int64? = nil, readyAt: Int64? = nil
    ) {
        self.domain = domain
        self.queued = queued
        self.claimed = claimed
        self.deferredItems = deferredItems
        self.deferredRecipients = deferredRecipients
        self.nextRetryAt = nextRetryAt
        self.readyAt = readyAt
    }

    enum CodingKeys: String, CodingKey {
        case domain, queued, claimed, deferredItems = "deferred_items", deferredRecipients = "deferred_recipients"
        case nextRetryAt = "next_retry_at", readyAt = "ready_at"
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(domain, forKey: .domain)
        try c.encode(queued, forKey: .queued)
        try c.encode(claimed, forKey: .claimed)
        try c.encode(deferredItems, forKey: .deferredItems)
        try c.encode(deferredRecipients, forKey: .deferredRecipients)
        try c.encode(nextRetryAt.map { WallClock.iso8601(milliseconds: $0) }, forKey: .nextRetryAt)
        try c.encode(readyAt.map { WallClock.iso8601(milliseconds: $0) }, forKey: .readyAt)
    }
}
