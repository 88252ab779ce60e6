import RelayCore

/// An adaptive-backoff slow-down in force (`slow:<ip>|<site>`): the (IP, site) rate is
/// multiplied by `factor` until it expires.
public struct SlowdownReport: Sendable, Hashable {
    public var ip: EgressID
    public var site: SiteName
    public var factor: Double
    /// Time left (ms); -1 when the key has no expiry.
    public var remainingMilliseconds: Int64

    public init(ip: EgressID, site: SiteName, factor: Double, remainingMilliseconds: Int64) {
        self.ip = ip
        self.site = site
        self.factor = factor
        self.remainingMilliseconds = remainingMilliseconds
    }

    struct Encoded: Encodable {
        var ip: EgressID
        var site: SiteName
        var factor: Double
        var remainingMs: Int64
        var until: String?

        enum CodingKeys: String, CodingKey { case ip, site, factor, remainingMs = "remaining_ms", until }

        func encode(to encoder: Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(ip, forKey: .ip)
            try c.encode(site, forKey: .site)
            try c.encode(factor, forKey: .factor)
            try c.encode(remainingMs, forKey: .remainingMs)
            try c.encode(until, forKey: .until)
        }
    }

    func encodable(at now: Int64) -> Encoded {
        Encoded(
            ip: ip, site: site, factor: factor, remainingMs: remainingMilliseconds,
            until: remainingMilliseconds >= 0 ? WallClock.iso8601(milliseconds: now + remainingMilliseconds) : nil)
    }
}
