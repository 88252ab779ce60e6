import SMTPProtocol

/// `greylist`: the first attempt for each (client IP, sender, recipient) gets
/// `first_attempt_reply`; a retry at least `min_retry_seconds` later is accepted, and so is
/// every later attempt for that triple (as postgrey does). Earlier retries are refused again.
///
/// ```json
/// "greylist": {"first_attempt_reply": "451 4.7.1 Greylisted", "min_retry_seconds": 1}
/// ```
struct GreylistRule: Decodable, Sendable {
    var firstAttemptReply: SMTPReply
    var minRetrySeconds: Double

    enum CodingKeys: String, CodingKey, CaseIterable {
        case firstAttemptReply = "first_attempt_reply", minRetrySeconds = "min_retry_seconds"
    }

    init(firstAttemptReply: SMTPReply, minRetrySeconds: Double) {
        self.firstAttemptReply = firstAttemptReply
        self.minRetrySeconds = minRetrySeconds
    }

    init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let text = try container.decodeIfPresent(String.self, forKey: .firstAttemptReply) ?? SimDefaults.greylistReply
        self.firstAttemptReply = try SMTPReply(configured: text, key: "\(decoder.keyPath).first_attempt_reply")
        self.minRetrySeconds = try container.decodeIfPresent(Double.self, forKey: .minRetrySeconds) ?? 60
        guard self.minRetrySeconds >= 0 else {
            throw ScenarioError.invalidValue("\(decoder.keyPath).min_retry_seconds", "must not be negative")
        }
    }
}
