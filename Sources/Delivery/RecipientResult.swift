import SMTPProtocol

/// What one delivery attempt did for one recipient.
struct RecipientResult: Sendable {
    enum Kind: Sendable { case delivered, deferred, bounced }
    var recipient: Mailbox
    var kind: Kind
    /// The relay's own explanation when no remote reply decided (no route, TLS, a lost
    /// connection), already in reply form: `451 4.4.1 Could not reach …`.
    var localReply: String?
    var remoteHost: String?
    var remoteIP: String?
    /// The remote reply this result came from (nil for the relay's own failures), kept typed
    /// until the event is written.
    var remoteReply: SMTPReply?

    /// A result decided by the relay itself.
    init(recipient: Mailbox, kind: Kind, reply: String) {
        self.recipient = recipient
        self.kind = kind
        self.localReply = reply
    }

    /// A result decided by the remote server's reply.
    init(recipient: Mailbox, remoteReply: SMTPReply, remoteHost: String?, remoteIP: String?) {
        self.recipient = recipient
        self.kind = Self.kind(forCode: remoteReply.code)
        self.remoteReply = remoteReply
        self.remoteHost = remoteHost
        self.remoteIP = remoteIP
    }

    /// The reply as one line, for the event: `550 5.1.1 No such user`.
    var reply: String {
        remoteReply?.singleLineText ?? localReply ?? ""
    }

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
