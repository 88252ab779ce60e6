/// Why `hk_claim` sent nothing (the third element of its wait reply). The throttle
/// reasons are counted in `hikyaku_throttle_waits_total`; `claimed` and `empty` mean there
/// was nothing to send.
public enum ClaimWaitReason: String, Sendable, Hashable, CaseIterable {
    /// The per-(egress address, site) message rate.
    case rateIP = "rate_ip"
    /// The per-site message rate, across all egress addresses.
    case rateSite = "rate_site"
    /// The per-(egress address, site) connection limit: no lease free.
    case connections
    /// The per-(egress address, site) rate of new connections.
    case connectionRate = "connection_rate"
    /// The site or the egress address is suspended by a backoff rule or an operator.
    case suspended
    /// Every candidate address has reached today's warm-up cap.
    case warmup
    /// Another worker holds the destination's entries.
    case claimed
    /// Nothing is due for the destination.
    case empty
    /// The worker offered no egress address (none in the pool on this host).
    case noEgress = "none"

    /// A limit made the destination wait (as opposed to there being nothing to send).
    public var isThrottle: Bool { self != .claimed && self != .empty }

    /// A rate wait passes on its own within milliseconds: worth sitting out with an SMTP
    /// connection open rather than closing it.
    public var isRateWait: Bool { self == .rateIP || self == .rateSite }
}
