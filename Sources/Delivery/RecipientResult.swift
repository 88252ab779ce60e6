import SMTPProtocol

/// What one delivery attempt did for one recipient.
struct RecipientResult: Sendable {
    enum Kind: Sendable { case delivered, deferred, bounced }
    var recipient: String
    var kind: Kind
    /// The remote reply (`250 2.0.0 Ok`), or the relay's own explanation.
    var reply: String
    var remoteHost: String?
    var remoteIP: String?
    /// The remote reply this result came from (nil for the relay's own failures).
    var remoteReply: SMTPReply?

    /// Classifies an SMTP reply code: 2xx delivered, 4xx deferred, 5xx bounced
    /// (RFC 5321 §4.2.1). Anything else is treated as temporary.
    static func kind(forCode code: Int) -> Kind {
        switch code {
        case 200..<300: return .delivered
        case 500..<600: return .bounced
        default: return .deferred
        }
    }
}
