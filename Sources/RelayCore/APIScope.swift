/// What an API key may do (`hikyaku account api-key create --scope send,read`).
public enum APIScope: String, Sendable, Hashable, CaseIterable, Codable {
    /// `POST /v1/messages`, `/v1/messages/batch`.
    case send
    /// `GET /v1/messages/{id}`, `/v1/events`.
    case read
    /// `/v1/webhooks`.
    case webhooks
    /// `/v1/suppressions`.
    case suppressions
}
