/// `bounces:` — how failures are classified (README "Bounce classification").
public struct BounceSettings: Sendable, Codable, Equatable {
    /// A rules file that replaces the shipped classification rules (`hikyaku bounce rules`
    /// prints them, to copy and edit). Read once when a worker starts; a file that does not
    /// parse stops the start with the line at fault. Default: none (the shipped rules).
    public var rulesFile: String?

    enum CodingKeys: String, CodingKey, CaseIterable {
        case rulesFile = "rules_file"
    }

    public init() {}

    public init(from decoder: Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init()
        rulesFile = try c.decodeIfPresent(String.self, forKey: .rulesFile) ?? rulesFile
    }

    func validate() throws {
        if let rulesFile, rulesFile.isEmpty || rulesFile.utf8.contains(0) {
            throw ConfigurationError(key: "bounces.rules_file", problem: "must be the path of a rules file, or left out")
        }
    }
}
