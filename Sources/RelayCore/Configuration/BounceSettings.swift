/// `bounces:` — how failures are classified (README "Bounce classification") and what the
/// relay keeps to tie bounces that come back later to the message and recipient they are
/// about (README "Bounces: VERP return path").
public struct BounceSettings: Sendable, Codable, Hashable {
    /// A rules file that replaces the shipped classification rules (`hikyaku bounce rules`
    /// prints them, to copy and edit). Read once when a worker starts; a file that does not
    /// parse stops the start with the line at fault. Default: none (the shipped rules).
    public var rulesFile: String?
    /// How long a message's recipient index (`hk:rix:<queue id>`, written at enqueue for
    /// accounts with a return-path domain) is kept after its last recipient is final, so a
    /// bounce that arrives days later still resolves its VERP token. Default 7d.
    public var window: ConfigDuration

    enum CodingKeys: String, CodingKey, CaseIterable {
        case rulesFile = "rules_file", window
    }

    public init() {
        window = .days(7)
    }

    public init(from decoder: Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init()
        rulesFile = try c.decodeIfPresent(String.self, forKey: .rulesFile) ?? rulesFile
        window = try c.decodeIfPresent(ConfigDuration.self, forKey: .window) ?? window
    }

    func validate() throws {
        if let rulesFile, rulesFile.isEmpty || rulesFile.utf8.contains(0) {
            throw ConfigurationError(key: "bounces.rules_file", problem: "must be the path of a rules file, or left out")
        }
        if window.milliseconds < 1000 {
            throw ConfigurationError(key: "bounces.window", problem: "must be at least 1s (e.g. 7d)")
        }
    }
}
