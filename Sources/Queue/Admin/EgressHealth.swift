import RedisClient
import RelayCore

/// One egress IP as the operator sees it: its place in the configuration, its warm-up
/// progress today (the `warm:<ip>:<day>` counter `hk_claim` charges against the day's cap)
/// and what holds it back: suspensions, adaptive slow-downs, connections in use.
public struct EgressHealth: Sendable, Hashable {
    public struct Warmup: Sendable, Hashable {
        /// Day of the schedule, 1-based; 0 before it starts.
        public var day: Int
        public var days: Int
        /// Today's cap (messages).
        public var cap: Int
        /// Messages sent from the IP today (UTC day).
        public var sentToday: Int
    }

    public var ip: EgressID
    /// Nil for an address this host's configuration does not list (seen only in Redis).
    public var pool: PoolName?
    public var weight: Int?
    /// Nil when the address is warm (no schedule, or past its end).
    public var warmup: Warmup?
    /// `susp:ipall:<ip>`: the IP sends to no site.
    public var suspendedEverywhere: SuspensionReport?
    /// `susp:ip:<ip>|<site>`.
    public var siteSuspensions: [SuspensionReport]
    public var slowdowns: [SlowdownReport]
    /// Connection leases in use, all sites.
    public var connections: Int

    /// Nothing holds the IP back.
    public var isHealthy: Bool { suspendedEverywhere == nil && siteSuspensions.isEmpty && slowdowns.isEmpty }
}

extension QueueAdmin {
    /// The configured egress addresses (and any other the report names), with their
    /// warm-up counters for the report's UTC day, in configuration order.
    ///
    /// ```
    /// C: MGET hk:warm:192.0.2.10:20429 hk:warm:192.0.2.11:20429
    /// S: *2 $2 37 $-1
    /// ```
    public func egressHealth(configured: [EgressIPSettings], report: QueueReport) async throws(QueueError) -> [EgressHealth] {
        let day = report.time / 86_400_000
        var order: [EgressID] = configured.map { EgressID(rawValue: $0.address) }
        for ip in report.suspensions.compactMap(\.ip) + report.slowdowns.map(\.ip) + report.leases.map(\.ip) where !order.contains(ip) {
            order.append(ip)
        }
        let warming = configured.filter { $0.warmup?.cap(onDay: day) != nil }
        var sent: [String: Int] = [:]
        if !warming.isEmpty {
            let reply = try await client.adminSend(
                RedisCommand("MGET", warming.map { .string(keys.warmup(egress: EgressID(rawValue: $0.address), day: day)) }))
            for (settings, value) in zip(warming, reply.array ?? []) {
                sent[settings.address] = value.string.flatMap(Int.init) ?? 0
            }
        }
        return order.map { ip in
            let settings = configured.first { $0.address == ip.rawValue }
            var warmup: EgressHealth.Warmup?
            if let schedule = settings?.warmup, let cap = schedule.cap(onDay: day), let start = schedule.startDay {
                warmup = .init(
                    day: max(0, Int(day - start) + 1), days: schedule.dailyCaps.count, cap: cap, sentToday: sent[ip.rawValue] ?? 0)
            }
            let mine = report.suspensions.filter { $0.ip == ip }
            return EgressHealth(
                ip: ip, pool: settings?.pool, weight: settings?.weight, warmup: warmup,
                suspendedEverywhere: mine.first { $0.target == .ip(ip, site: nil) },
                siteSuspensions: mine.filter { $0.target != .ip(ip, site: nil) }, slowdowns: report.slowdowns.filter { $0.ip == ip },
                connections: report.leases.filter { $0.ip == ip }.reduce(0) { $0 + $1.inUse })
        }
    }
}

extension SuspensionReport {
    /// The IP of an IP suspension.
    public var ip: EgressID? {
        if case .ip(let ip, _) = target { return ip }
        return nil
    }

    /// The site of a site suspension, or of a one-site IP suspension.
    public var site: SiteName? {
        switch target {
        case .site(let site): site
        case .ip(_, let site): site
        }
    }
}
