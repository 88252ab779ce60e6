import RelayCore

/// A webhook endpoint of an account, as stored in the `webhooks` hash (JSON, by id).
///
/// Its secrets are kept in Redis as they are (the dispatcher signs with them); the key
/// pattern of `webhooks` is read-only for the dispatcher and closed to the other roles
/// (`RedisACL`). ``description`` never shows them.
public struct WebhookEndpoint: Sendable, Codable, Hashable, CustomStringConvertible {
    /// 16 hex digits.
    public var id: String
    public var account: String
    /// `http://` or `https://` URL the events are POSTed to.
    public var url: String
    /// Event kinds wanted (`delivered`, `bounced`, …); nil or empty: every kind.
    public var events: [String]?
    /// One secret, or two during a rotation (the newest first): every request is signed
    /// with each.
    public var secrets: [String]
    /// RFC 3339.
    public var createdAt: String
    /// Private, loopback and link-local addresses allowed (`--allow-private`).
    public var allowPrivate: Bool

    enum CodingKeys: String, CodingKey {
        case id, account, url, events, secrets, createdAt = "created_at", allowPrivate = "allow_private"
    }

    public init(id: String, account: String, url: String, events: [String]?, secrets: [String], createdAt: String, allowPrivate: Bool) {
        self.id = id
        self.account = account
        self.url = url
        self.events = events
        self.secrets = secrets
        self.createdAt = createdAt
        self.allowPrivate = allowPrivate
    }

    /// Whether the endpoint wants events of `kind`.
    public func wants(_ kind: String) -> Bool {
        guard let events, !events.isEmpty else { return true }
        return events.contains(kind)
    }

    public var description: String {
        "webhook \(id) of \(account) → \(url) (\(events?.joined(separator: ",") ?? "all events"), \(secrets.count) secret(s))"
    }
}
