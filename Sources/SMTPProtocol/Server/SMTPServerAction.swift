/// What the NIO handler must do after an event given to ``SMTPServerStateMachine``.
public enum SMTPServerAction: Hashable, Sendable {
    /// Write the reply.
    case reply(SMTPReply)
    /// Write the reply, then close the connection (QUIT → `221 2.0.0`, too many errors →
    /// `421 4.7.0`).
    case replyAndClose(SMTPReply)
    /// Write `220 2.0.0 Ready to start TLS`, install TLS, then call
    /// ``SMTPServerStateMachine/tlsEstablished()`` (RFC 3207 §4). Before writing, the
    /// handler refuses and closes if the framer still buffers bytes after the STARTTLS
    /// line (CVE-2011-0411).
    case startTLS(SMTPReply)
    /// Verify the credentials off the event loop, then call
    /// ``SMTPServerStateMachine/credentialsChecked(_:)``.
    case checkCredentials(username: String, password: String, mechanism: String)
    /// Look the recipient up (a suppression list) off the event loop, then call
    /// ``SMTPServerStateMachine/recipientChecked(refusal:)``.
    case checkRecipient(Mailbox)
    /// Write the `354` reply and switch the framer to data mode.
    case startData(SMTPReply)
    /// Store the message content received since `startData` with this envelope, then call
    /// ``SMTPServerStateMachine/messageQueued(_:)``.
    case enqueue(SMTPTransaction)
}

extension SMTPServerAction: CustomStringConvertible {
    /// A description for logs; never contains the password.
    public var description: String {
        switch self {
        case .reply(let reply): "reply(\(reply.code) \(reply.text))"
        case .replyAndClose(let reply): "replyAndClose(\(reply.code) \(reply.text))"
        case .startTLS(let reply): "startTLS(\(reply.code))"
        case .checkCredentials(let username, _, let mechanism): "checkCredentials(\(mechanism) \(username), <redacted>)"
        case .checkRecipient(let mailbox): "checkRecipient(\(mailbox))"
        case .startData(let reply): "startData(\(reply.code))"
        case .enqueue(let transaction):
            "enqueue(from \(transaction.reversePath), \(transaction.recipients.count) recipients, "
                + "\(transaction.dataSummary.size) octets)"
        }
    }
}
