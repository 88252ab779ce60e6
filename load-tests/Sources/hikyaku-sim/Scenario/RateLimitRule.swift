import SMTPProtocol

/// `per_ip_rate`: at most `count` messages from one client IP in any `period_seconds`
/// (a sliding window). A transaction counts once, when its first recipient is accepted;
/// a recipient that would start a transaction beyond the limit gets `reply`.
///
/// ```json
/// "per_ip_rate": {"count": 100, "period_seconds": 60, "reply": "421 4.7.28 rate limited"}
/// ```
/// A 421 reply closes the connection after it is sent (RFC 5321 §3.8).
struct RateLimitRule: Decodable, Sendable {
    var count: Int
    var periodSeconds: Double
    var reply: SMTPReply

    enum CodingKeys: String, CodingKey, CaseIterable {
        case count, periodSeconds = "period_seconds", reply
    }

    init(count: Int, periodSeconds: Double, reply: SMTPReply) {
        self.count = count
        self.periodSeconds = periodSeconds
        self.reply = reply
    }

    init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.count = try container.decode(Int.self, forKey: .count)
        self.periodSeconds = try container.decode(Double.self, forKey: .periodSeconds)
        let text = try container.decodeIfPresent(String.self, forKey: .reply) ?? SimDefaults.rateLimitReply
        self.reply = try SMTPReply(configured: text, key: "\(decoder.keyPath).reply")
        guard self.count >= 1 else { throw ScenarioError.invalidValue("\(decoder.keyPath).count", "must be at least 1") }
        guard self.periodSeconds > 0 else {
            throw ScenarioError.invalidValue("\(decoder.keyPath).period_seconds", "must be more than 0")
        }
    }
}
