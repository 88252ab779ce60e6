/// `delivery.egress[]` — one source IP address this worker host sends from.
///
/// Every worker host lists its own addresses; the pool name ties addresses on different
/// hosts together. Outbound connections are bound to the address and greet with `helo`.
public struct EgressIPSettings: Sendable, Codable, Hashable {
    /// The local IPv4 or IPv6 address to bind outbound connections to.
    public var address: String
    /// EHLO name for connections from this address (should match its PTR record).
    /// Default: `delivery.helo_name`, else `hostname`.
    public var helo: String?
    /// The pool this address belongs to. Default `default`.
    public var pool: PoolName
    /// Relative share of the pool's traffic this address gets. Default 1.
    public var weight: Int
    /// A warm-up schedule for a new address; absent means fully warm.
    public var warmup: WarmupSettings?

    enum CodingKeys: String, CodingKey, CaseIterable { case address, helo, pool, weight, warmup }

    public init(address: String, helo: String? = nil, pool: PoolName = .default, weight: Int = 1, warmup: WarmupSettings? = nil) {
        self.address = address
        self.helo = helo
        self.pool = pool
        self.weight = weight
        self.warmup = warmup
    }

    public init(from decoder: Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        address = try c.decode(String.self, forKey: .address)
        helo = try c.decodeIfPresent(String.self, forKey: .helo)
        pool = try c.decodeIfPresent(PoolName.self, forKey: .pool) ?? .default
        weight = try c.decodeIfPresent(Int.self, forKey: .weight) ?? 1
        warmup = try c.decodeIfPresent(WarmupSettings.self, forKey: .warmup)
    }

    func validate(key: String) throws {
        if IPNetwork.parseAddress(address) == nil {
            throw ConfigurationError(key: "\(key).address", problem: "'\(address)' is not an IP address")
        }
        try PoolName.validate(pool.rawValue, key: "\(key).pool")
        if weight < 1 {
            throw ConfigurationError(key: "\(key).weight", problem: "must be at least 1")
        }
        try warmup?.validate(key: "\(key).warmup")
    }
}

/// `warmup:` — daily message caps for a new IP, enforced across the cluster. Day 1 is
/// `start`; on day N the cap is `daily_caps[N-1]`; after the list the IP is warm.
public struct WarmupSettings: Sendable, Codable, Hashable {
    /// First day of the schedule, `YYYY-MM-DD` (UTC).
    public var start: String
    public var dailyCaps: [Int]

    enum CodingKeys: String, CodingKey, CaseIterable { case start, dailyCaps = "daily_caps" }

    public init(start: String, dailyCaps: [Int]) {
        self.start = start
        self.dailyCaps = dailyCaps
    }

    public init(from decoder: Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        start = try c.decode(String.self, forKey: .start)
        dailyCaps = try c.decode([Int].self, forKey: .dailyCaps)
    }

    /// Days since 1970 of `start`, or nil when it is not `YYYY-MM-DD`.
    public var startDay: Int64? {
        let parts = start.split(separator: "-").compactMap { Int($0) }
        guard parts.count == 3, (1...12).contains(parts[1]), (1...31).contains(parts[2]) else { return nil }
        return Self.daysFromCivil(year: parts[0], month: parts[1], day: parts[2])
    }

    /// The cap for the UTC day `day` (days since 1970), or nil when the IP is warm (or the
    /// schedule has not started: an address is not used before its warm-up begins — cap 0).
    public func cap(onDay day: Int64) -> Int? {
        guard let first = startDay else { return nil }
        let index = day - first
        if index < 0 { return 0 }
        if index >= Int64(dailyCaps.count) { return nil }
        return dailyCaps[Int(index)]
    }

    /// Howard Hinnant's days_from_civil.
    static func daysFromCivil(year: Int, month: Int, day: Int) -> Int64 {
        let y = Int64(month <= 2 ? year - 1 : year)
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let m = Int64(month)
        let doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + Int64(day) - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146097 + doe - 719468
    }

    func validate(key: String) throws {
        if startDay == nil {
            throw ConfigurationError(key: "\(key).start", problem: "'\(start)' is not a date YYYY-MM-DD")
        }
        if dailyCaps.isEmpty || dailyCaps.contains(where: { $0 < 0 }) {
            throw ConfigurationError(key: "\(key).daily_caps", problem: "must be a non-empty list of caps ≥ 0, e.g. [50, 100, 500, 1000]")
        }
    }
}
