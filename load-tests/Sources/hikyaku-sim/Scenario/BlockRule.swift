import SMTPProtocol

/// `block_after_excess`: once an IP has been refused for `per_ip_rate` `excess` times within
/// one rate period, every recipient from it gets `reply` for `block_seconds`.
///
/// ```json
/// "block_after_excess": {"excess": 50, "block_seconds": 300, "reply": "550 5.7.1 blocked"}
/// ```
struct BlockRule: Decodable, Sendable {
    var excess: Int
    var blockSeconds: Double
    var reply: SMTPReply

    enum CodingKeys: String, CodingKey, CaseIterable {
        case excess, blockSeconds = "block_seconds", reply
    }

    init(excess: Int, blockSeconds: Double, reply: SMTPReply) {
        self.excess = excess
        self.blockSeconds = blockSeconds
        self.reply = reply
    }

    init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.excess = try container.decode(Int.self, forKey: .excess)
        self.blockSeconds = try container.decode(Double.self, forKey: .blockSeconds)
        let text = try container.decodeIfPresent(String.self, forKey: .reply) ?? SimDefaults.blockedReply
        self.reply = try SMTPReply(configured: text, key: "\(decoder.keyPath).reply")
        guard self.excess >= 1 else { throw ScenarioError.invalidValue("\(decoder.keyPath).excess", "must be at least 1") }
        guard self.blockSeconds > 0 else {
            throw ScenarioError.invalidValue("\(decoder.keyPath).block_seconds", "must be more than 0")
        }
    }
}
