import RelayCore

/// How many rows a runner may enqueue now: the campaign's own maximum rate (a token
/// bucket) and, per receiving site, the lookahead — never more than about `lookahead` of
/// the site's limit-bound rate waiting in the queue, so a campaign to a slow site trickles
/// in (and pause or cancel takes effect within minutes) while one to a fast site flows.
public enum SendPacing {
    /// Messages a site with `rate` may have waiting: its rate times the lookahead (at least
    /// one burst, at least one message); nil when the site has no rate limit.
    public static func siteAllowance(rate: Rate?, lookaheadMilliseconds: Int64, queued: Int) -> Int? {
        guard let rate else { return nil }
        let perLookahead = Int64(rate.count) * lookaheadMilliseconds / max(rate.period.milliseconds, 1)
        let cap = max(perLookahead, Int64(rate.burst), 1)
        return max(Int(min(cap, Int64(Int.max / 2))) - queued, 0)
    }
}

/// A token bucket for the campaign's `max_rate`: `take` answers how many of `wanted` may
/// go at `now`; unused capacity accrues up to one second's worth (or the rate's burst).
public struct RateBucket: Sendable {
    public let rate: Rate
    private var tokens: Double
    private var updated: Int64

    public init(rate: Rate, now: Int64) {
        self.rate = rate
        self.tokens = Double(Self.capacity(rate))
        self.updated = now
    }

    static func capacity(_ rate: Rate) -> Int {
        let perSecond = Double(rate.count) * 1000 / Double(max(rate.period.milliseconds, 1))
        return max(rate.burst, Int(perSecond.rounded(.up)), 1)
    }

    public mutating func take(_ wanted: Int, now: Int64) -> Int {
        let perMillisecond = Double(rate.count) / Double(max(rate.period.milliseconds, 1))
        tokens = min(Double(Self.capacity(rate)), tokens + Double(max(now - updated, 0)) * perMillisecond)
        updated = now
        let granted = min(wanted, Int(tokens.rounded(.down)))
        tokens -= Double(granted)
        return max(granted, 0)
    }

    /// Returns tokens taken and not used.
    public mutating func giveBack(_ count: Int) {
        tokens = min(Double(Self.capacity(rate)), tokens + Double(max(count, 0)))
    }

    /// Milliseconds until one more token accrues.
    public func wait(now: Int64) -> Int64 {
        let perMillisecond = Double(rate.count) / Double(max(rate.period.milliseconds, 1))
        let missing = 1 - tokens
        return missing <= 0 ? 0 : Int64((missing / perMillisecond).rounded(.up))
    }
}
