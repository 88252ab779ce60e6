/// `suppression:` — the suppression lists (README "Suppression lists"). The entries
/// themselves live in Redis (`hikyaku suppression add`, `/v1/suppressions`).
///
/// ```yaml
/// suppression:
///   expiry:
///     hard_bounce: 365d      # an address that bounced may be tried again after a year
///     unsubscribe: 0         # 0 or absent: never expires
///   sweep_interval: 1m
/// ```
public struct SuppressionSettings: Sendable, Codable {
    /// How long an entry of each reason applies when added without its own expiry.
    /// Default: none for every reason (entries stay until removed).
    public var expiry: [SuppressionReason: ConfigDuration]
    /// How often the sweeper (worker hosts) removes expired entries. Lookups ignore an
    /// expired entry before it runs. Default `1m`.
    public var sweepInterval: ConfigDuration

    enum CodingKeys: String, CodingKey, CaseIterable { case expiry, sweepInterval = "sweep_interval" }

    public init() {
        expiry = [:]
        sweepInterval = .minutes(1)
    }

    public init(from decoder: Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init()
        if let byName = try c.decodeIfPresent([String: ConfigDuration].self, forKey: .expiry) {
            for (name, duration) in byName {
                guard let reason = SuppressionReason(rawValue: name) else {
                    throw ConfigurationError(
                        key: "suppression.expiry.\(name)",
                        problem: "is not a reason; use \(SuppressionReason.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                if duration.milliseconds > 0 { expiry[reason] = duration }
            }
        }
        sweepInterval = try c.decodeIfPresent(ConfigDuration.self, forKey: .sweepInterval) ?? sweepInterval
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(Dictionary(uniqueKeysWithValues: expiry.map { ($0.key.rawValue, $0.value) }), forKey: .expiry)
        try c.encode(sweepInterval, forKey: .sweepInterval)
    }

    func validate() throws {
        if sweepInterval.milliseconds < 1000 {
            throw ConfigurationError(key: "suppression.sweep_interval", problem: "must be at least 1s")
        }
    }

    /// When an entry of `reason` added at `now` (ms) expires, by this configuration.
    public func expiry(for reason: SuppressionReason, now: Int64) -> Int64? {
        expiry[reason].map { now + $0.milliseconds }
    }
}
