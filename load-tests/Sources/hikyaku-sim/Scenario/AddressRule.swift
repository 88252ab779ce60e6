import SMTPProtocol

/// `unknown_users` and `mailbox_full`: recipients matching `pattern` (a POSIX extended
/// regular expression on `local-part@domain`, see ``AddressPattern``) get `reply`.
///
/// ```json
/// "unknown_users": {"pattern": "^nouser", "reply": "550 5.1.1 No such user"}
/// ```
struct AddressRule: Decodable, Sendable {
    var pattern: AddressPattern
    var reply: SMTPReply

    enum CodingKeys: String, CodingKey, CaseIterable {
        case pattern, reply
    }

    init(pattern: AddressPattern, reply: SMTPReply) {
        self.pattern = pattern
        self.reply = reply
    }

    /// Decodes with the default reply for the behaviour the rule stands for.
    static func decode(from decoder: any Decoder, defaultReply: String) throws -> AddressRule {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let text = try container.decode(String.self, forKey: .pattern)
        guard let pattern = AddressPattern(text) else {
            throw ScenarioError.invalidValue("\(decoder.keyPath).pattern", "'\(text)' is not a valid extended regular expression")
        }
        let reply = try container.decodeIfPresent(String.self, forKey: .reply) ?? defaultReply
        return AddressRule(pattern: pattern, reply: try SMTPReply(configured: reply, key: "\(decoder.keyPath).reply"))
    }

    init(from decoder: any Decoder) throws {
        self = try Self.decode(from: decoder, defaultReply: SimDefaults.unknownUserReply)
    }
}
