import RelayCore

/// A snapshot of the queue for `hikyaku queue`: per pool and destination, what is waiting
/// and why; the suspensions, slow-downs and connection leases in force.
///
/// Gathered with `SCAN`/`ZSCAN` and pipelined reads, not atomically: counts taken a few
/// milliseconds apart may not add up exactly while workers run.
///
/// Its JSON (`hikyaku queue --json`) is one object with snake_case keys, absolute times in
/// RFC 3339 (UTC, ms) and durations in milliseconds:
///
/// ```
/// {"time": "…", "pools": [{"pool": "default", "depth": 12, "destinations": [{"domain": "example.net",
///   "queued": 3, "claimed": 1, "deferred_items": 2, "deferred_recipients": 4,
///   "next_retry_at": "…", "ready_at": "…"}]}],
///  "suspensions": [{"scope": "site", "site": "gmail", "remaining_ms": 59000, "until": "…",
///   "reason": "…", "rule": "operator", "node": "operator"}],
///  "slowdowns": [{"ip": "192.0.2.1", "site": "gmail", "factor": 0.5, "remaining_ms": 1000, "until": "…"}],
///  "leases": [{"ip": "192.0.2.1", "site": "gmail", "in_use": 2}]}
/// ```
public struct QueueReport: Sendable, Hashable, Encodable {
    /// When it was taken (ms since 1970, Redis clock); remaining times count from here.
    public var time: Int64
    public var pools: [PoolReport]
    public var suspensions: [SuspensionReport]
    public var slowdowns: [SlowdownReport]
    public var leases: [LeaseReport]

    public init(time: Int64, pools: [PoolReport], suspensions: [SuspensionReport], slowdowns: [SlowdownReport], leases: [LeaseReport]) {
        self.time = time
        self.pools = pools
        self.suspensions = suspensions
        self.slowdowns = slowdowns
        self.leases = leases
    }

    enum CodingKeys: String, CodingKey { case time, pools, suspensions, slowdowns, leases }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(WallClock.iso8601(milliseconds: time), forKey: .time)
        try c.encode(pools, forKey: .pools)
        try c.encode(suspensions.map { $0.encodable(at: time) }, forKey: .suspensions)
        try c.encode(slowdowns.map { $0.encodable(at: time) }, forKey: .slowdowns)
        try c.encode(leases, forKey: .leases)
    }
}
