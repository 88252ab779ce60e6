import SMTPClient
import SMTPProtocol

extension SMTPDeliverySession {
    /// `MAIL FROM:<sender>`; an empty sender is the null reverse-path `<>` (bounces).
    static func reversePath(_ sender: String) -> ReversePath {
        sender.isEmpty ? .null : .mailbox(mailbox(sender))
    }

    static func forwardPath(_ recipient: String) -> ForwardPath {
        ForwardPath(mailbox(recipient))
    }

    static func mailbox(_ address: String) -> Mailbox {
        if let parsed = Mailbox(parsing: address) { return parsed }
        guard let at = address.lastIndex(of: "@") else { return Mailbox(localPart: address, domain: "") }
        return Mailbox(localPart: String(address[..<at]), domain: String(address[address.index(after: at)...]))
    }
}
