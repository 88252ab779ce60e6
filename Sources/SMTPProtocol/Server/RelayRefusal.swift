/// How a listener refuses a recipient when the client may not relay.
public enum RelayRefusal: Hashable, Sendable {
    /// `530 5.7.0 Authentication required` (RFC 4954 §6): submission listeners (587, 465),
    /// where the client is expected to authenticate.
    case authenticationRequired
    /// `550 5.7.1 Relay access denied`: relay listeners (25), where only allow-listed
    /// sources may send.
    case relayDenied
    /// `451 4.3.0`: whether the client may relay cannot be decided yet (the accounts have
    /// not been loaded from Redis): it should try again, not give up.
    case notYetKnown

    /// The reply sent for a refused RCPT.
    public var reply: SMTPReply {
        switch self {
        case .authenticationRequired: .authenticationRequired
        case .relayDenied: .relayDenied
        case .notYetKnown: SMTPReply(451, "4.3.0", "Account data is not available yet; try again later")
        }
    }
}
