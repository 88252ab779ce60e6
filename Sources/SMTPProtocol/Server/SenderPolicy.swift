/// What the account a session sends as may do (set with
/// ``SMTPServerStateMachine/setSenderPolicy(_:)`` once the account is known: after AUTH,
/// or at once for a client in one of the account's networks).
///
/// ```
/// C: MAIL FROM:<news@other.example>
/// S: 553 5.7.1 Sender <news@other.example> is not in a sending domain of account acme
/// C: MAIL FROM:<news@example.com>            (account paused)
/// S: 451 4.7.1 Account acme is paused: hard-bounce rate 4.1% … ; contact the relay operator
/// ```
public struct SenderPolicy: Sendable, Hashable {
    public var accountName: String
    /// Every MAIL gets this reply (a paused account); nil: none.
    public var refusal: SMTPReply?
    /// Lower-case domains the envelope sender must be in (subdomains included); nil: any.
    public var allowedDomains: [String]?
    /// Per-account limits under the listener's; nil: the listener's.
    public var maxMessageSize: Int?
    public var maxRecipients: Int?

    public init(
        accountName: String, refusal: SMTPReply? = nil, allowedDomains: [String]? = nil,
        maxMessageSize: Int? = nil, maxRecipients: Int? = nil
    ) {
        self.accountName = accountName
        self.refusal = refusal
        self.allowedDomains = allowedDomains
        self.maxMessageSize = maxMessageSize
        self.maxRecipients = maxRecipients
    }

    /// Whether `domain` is one of the allowed domains or under one (DMARC relaxed
    /// alignment, RFC 7489 §3.1, treats subdomains alike).
    public func allows(domain: String) -> Bool {
        guard let allowedDomains else { return true }
        var domain = domain.lowercased()
        while domain.hasSuffix(".") { domain.removeLast() }
        guard !domain.isEmpty else { return false }
        return allowedDomains.contains { domain == $0 || domain.hasSuffix("." + $0) }
    }
}
