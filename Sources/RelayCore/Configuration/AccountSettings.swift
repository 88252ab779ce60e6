/// `accounts:` — how tenants (see `Account`, managed with `hikyaku account`) are policed.
public struct AccountSettings: Sendable, Codable, Hashable {
    /// An account whose hard bounces exceed this fraction of its final outcomes over
    /// `bounce_window` is paused (with a `paused` event) until an operator resumes it.
    /// Default 0.03 — the level above which senders get blocklisted. 0 turns it off.
    public var bounceRateThreshold: Double
    /// The window the bounce rate is measured over (whole hours). Default 24h.
    public var bounceWindow: ConfigDuration
    /// Fewest final outcomes in the window before the rate is judged. Default 100.
    public var bounceMinimumVolume: Int
    /// An account whose spam complaints (ARF reports from feedback loops) exceed this
    /// fraction of its deliveries over `complaint_window` is paused like for bounces.
    /// Default 0.003 — the 0.3% Gmail and Yahoo publish as the line bulk senders must stay
    /// under. 0 turns it off.
    public var complaintRateThreshold: Double
    /// The window the complaint rate is measured over (whole hours). Default 24h.
    public var complaintWindow: ConfigDuration
    /// Fewest deliveries in the window before the complaint rate is judged. Default 1000.
    public var complaintMinimumDeliveries: Int
    /// Failed SMTP AUTH attempts (per client address and per user) before a lockout. Default 5.
    public var authFailuresBeforeLockout: Int
    /// The first lockout; each further failure doubles it, up to `auth_lockout_max`. Default 1m.
    public var authLockout: ConfigDuration
    /// Default 1h.
    public var authLockoutMax: ConfigDuration
    /// How long an address (IPv6: its /64) where a user logged in stays known for that
    /// user: a lockout of the user name does not apply there. Default 30d.
    public var authKnownAddressTTL: ConfigDuration
    /// How often ingest nodes look for account changes in Redis. Default 1s.
    public var refreshInterval: ConfigDuration

    enum CodingKeys: String, CodingKey, CaseIterable {
        case bounceRateThreshold = "bounce_rate_threshold", bounceWindow = "bounce_window"
        case bounceMinimumVolume = "bounce_minimum_volume", authFailuresBeforeLockout = "auth_failures_before_lockout"
        case authLockout = "auth_lockout", authLockoutMax = "auth_lockout_max", refreshInterval = "refresh_interval"
        case authKnownAddressTTL = "auth_known_address_ttl"
        case complaintRateThreshold = "complaint_rate_threshold", complaintWindow = "complaint_window"
        case complaintMinimumDeliveries = "complaint_minimum_deliveries"
    }

    public init() {
        bounceRateThreshold = 0.03
        bounceWindow = .hours(24)
        bounceMinimumVolume = 100
        complaintRateThreshold = 0.003
        complaintWindow = .hours(24)
        complaintMinimumDeliveries = 1000
        authFailuresBeforeLockout = 5
        authLockout = .minutes(1)
        authLockoutMax = .hours(1)
        authKnownAddressTTL = .days(30)
        refreshInterval = .seconds(1)
    }

    public init(from decoder: Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init()
        bounceRateThreshold = try c.decodeIfPresent(Double.self, forKey: .bounceRateThreshold) ?? bounceRateThreshold
        bounceWindow = try c.decodeIfPresent(ConfigDuration.self, forKey: .bounceWindow) ?? bounceWindow
        bounceMinimumVolume = try c.decodeIfPresent(Int.self, forKey: .bounceMinimumVolume) ?? bounceMinimumVolume
        complaintRateThreshold = try c.decodeIfPresent(Double.self, forKey: .complaintRateThreshold) ?? complaintRateThreshold
        complaintWindow = try c.decodeIfPresent(ConfigDuration.self, forKey: .complaintWindow) ?? complaintWindow
        complaintMinimumDeliveries =
            try c.decodeIfPresent(Int.self, forKey: .complaintMinimumDeliveries) ?? complaintMinimumDeliveries
        authFailuresBeforeLockout = try c.decodeIfPresent(Int.self, forKey: .authFailuresBeforeLockout) ?? authFailuresBeforeLockout
        authLockout = try c.decodeIfPresent(ConfigDuration.self, forKey: .authLockout) ?? authLockout
        authLockoutMax = try c.decodeIfPresent(ConfigDuration.self, forKey: .authLockoutMax) ?? authLockoutMax
        refreshInterval = try c.decodeIfPresent(ConfigDuration.self, forKey: .refreshInterval) ?? refreshInterval
        authKnownAddressTTL = try c.decodeIfPresent(ConfigDuration.self, forKey: .authKnownAddressTTL) ?? authKnownAddressTTL
    }

    func validate() throws {
        if !(0...1).contains(bounceRateThreshold) {
            throw ConfigurationError(
                key: "accounts.bounce_rate_threshold", problem: "must be a fraction from 0 to 1 (0.03 is 3%), not \(bounceRateThreshold)")
        }
        if bounceWindow.milliseconds < 3_600_000 || bounceWindow.milliseconds % 3_600_000 != 0 {
            throw ConfigurationError(key: "accounts.bounce_window", problem: "must be whole hours, at least 1h (e.g. 24h)")
        }
        if bounceMinimumVolume < 1 {
            throw ConfigurationError(key: "accounts.bounce_minimum_volume", problem: "must be at least 1")
        }
        if !(0...1).contains(complaintRateThreshold) {
            throw ConfigurationError(
                key: "accounts.complaint_rate_threshold",
                problem: "must be a fraction from 0 to 1 (0.003 is 0.3%), not \(complaintRateThreshold)")
        }
        if complaintWindow.milliseconds < 3_600_000 || complaintWindow.milliseconds % 3_600_000 != 0 {
            throw ConfigurationError(key: "accounts.complaint_window", problem: "must be whole hours, at least 1h (e.g. 24h)")
        }
        if complaintMinimumDeliveries < 1 {
            throw ConfigurationError(key: "accounts.complaint_minimum_deliveries", problem: "must be at least 1")
        }
        if authFailuresBeforeLockout < 1 {
            throw ConfigurationError(key: "accounts.auth_failures_before_lockout", problem: "must be at least 1")
        }
        if authLockout.milliseconds < 1000 || authLockoutMax.milliseconds < authLockout.milliseconds {
            throw ConfigurationError(key: "accounts.auth_lockout", problem: "must be at least 1s and at most accounts.auth_lockout_max")
        }
        if authKnownAddressTTL.milliseconds < 0 {
            throw ConfigurationError(key: "accounts.auth_known_address_ttl", problem: "must not be negative (0 turns it off)")
        }
        if refreshInterval.milliseconds < 100 {
            throw ConfigurationError(key: "accounts.refresh_interval", problem: "must be at least 100ms")
        }
    }
}
