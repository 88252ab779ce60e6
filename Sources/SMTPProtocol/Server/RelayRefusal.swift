/// How a listener refuses a recipient when the client may not relay.
public enum RelayRefusal: Hashable, Sendable {
    /// `530 5.7.0 Authentication required` (RFC 4954 §6): submission listeners (587, 465),
    /// where the client is expected to authenticate.
    case authenticationRequired
    /// `550 5.7.1 Relay access denied`: relay listeners (25), where only allow-listed
    /// sources may send.
    case relayDenied

    /// The reply sent for a refused RCPT.
    public var reply: SMTPReply {
        switch self {
        case .authenticationRequired: .authenticationRequired
        case .relayDenied: .relayDenied
        }
    }
}
