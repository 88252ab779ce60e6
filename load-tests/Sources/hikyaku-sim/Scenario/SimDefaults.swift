/// Defaults of the scenario format and the server, named in one place.
enum SimDefaults {
    /// The refusal when `per_ip_rate` is exceeded (Gmail's wording).
    static let rateLimitReply = "421 4.7.28 Too many messages from this IP, rate limited"
    /// The refusal while an IP is blocked after `block_after_excess`.
    static let blockedReply = "550 5.7.1 Blocked for sending too fast"
    /// The refusal for `unknown_users`.
    static let unknownUserReply = "550 5.1.1 No such user"
    /// The refusal for `mailbox_full`.
    static let mailboxFullReply = "452 4.2.2 Mailbox full"
    /// The refusal of a first delivery attempt under `greylist`.
    static let greylistReply = "451 4.7.1 Greylisted, try again later"
    /// Connections idle this long get `421 4.4.2` and are closed (Postfix waits 300 s).
    static let idleTimeoutSeconds: Int64 = 300
    /// Advertised `SIZE` and the largest message accepted.
    static let maxMessageSize = 64 * 1024 * 1024
    /// Records are written to the file at least this often.
    static let flushIntervalMilliseconds: Int64 = 100
}
