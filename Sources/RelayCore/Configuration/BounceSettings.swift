/// `bounces:` — what the relay keeps to tie bounces that come back later to the message
/// and recipient they are about (README, "Bounces").
public struct BounceSettings: Sendable, Codable, Hashable {
    /// How long a message's recipient index (`hk:rix:<queue id>`, written at enqueue for
    /// accounts with a return-path domain) is kept after its last recipient is final, so a
    /// bounce that arrives days later still resolves its VERP token. Default 7d.
    public var window: ConfigDuration

    enum CodingKeys: String, CodingKey, CaseIterable { case window }

    public init() {
        window = .days(7)
    }

    public init(from decoder: Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init()
        window = try c.decodeIfPresent(ConfigDuration.self, forKey: .window) ?? window
    }

    func validate() throws {
        if window.milliseconds < 1000 {
            throw ConfigurationError(key: "bounces.window", problem: "must be at least 1s (e.g. 7d)")
        }
    }
}
