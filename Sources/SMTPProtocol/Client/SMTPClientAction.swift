/// What the connection glue must do after an event given to ``SMTPClientStateMachine``.
public enum SMTPClientAction: Hashable, Sendable {
    /// Read one more reply and give it to ``SMTPClientStateMachine/receive(_:)`` (the
    /// greeting, RFC 5321 §3.1).
    case awaitReply
    /// Write these commands in one flush and give each reply, in order, to
    /// ``SMTPClientStateMachine/receive(_:)`` until an action other than ``awaitReply``
    /// comes back. More than one command only when the server offered PIPELINING (RFC 2920 §3.1).
    case send([SMTPCommand])
    /// The server answered `220` to STARTTLS: refuse any byte it sent after that reply,
    /// run the TLS handshake, then call ``SMTPClientStateMachine/tlsEstablished()`` (RFC 3207 §4, §4.2).
    case startTLS
    /// The server answered `354`: send the message content (dot-stuffed) and the end-of-data
    /// mark, then `then` — the next transaction's commands, when one was chained (RFC 2920
    /// §3.1) — in the same write, and give the reply to the end of data to
    /// ``SMTPClientStateMachine/receive(_:)`` (RFC 5321 §4.1.1.4). The replies to `then`
    /// are read when that transaction is begun.
    case sendBody(then: [SMTPCommand])
    /// The server answered `354` although the transaction has nothing to deliver (MAIL or
    /// every RCPT refused in a pipelined group): send an empty content and the end-of-data
    /// mark so that nothing is delivered, then give the reply to `receive` (RFC 2920 §3.1).
    case sendEmptyBody
    /// The session is open and no transaction is in progress: `capabilities` is what the
    /// last EHLO offered (none after HELO).
    case ready(SMTPCapabilities)
    /// The transaction has ended with these outcomes; the session is ready for the next one
    /// unless the server announced it is closing (``SMTPClientStateMachine/isUsable``).
    case transactionComplete(SMTPTransactionOutcome)
    /// The session cannot go on: send QUIT first (its reply does not matter) when `quit`,
    /// then close the connection and report `failure`.
    case fail(SMTPSessionFailure, quit: Bool)
    /// QUIT was answered (or cannot be sent): close the connection.
    case close
}

/// Why a session ended before it could carry mail, or in the middle of a transaction.
public enum SMTPSessionFailure: Error, Hashable, Sendable, CustomStringConvertible {
    /// The server refused the session: a greeting other than `220` (RFC 5321 §3.1, §4.3.2),
    /// HELO refused after EHLO was (§4.1.1.1), or a `421` at any point (§3.8).
    case refused(SMTPReply)
    /// TLS is required and the server did not offer STARTTLS in its EHLO reply (RFC 3207 §4;
    /// RFC 8461 §5, RFC 7672 §2.2 make it mandatory for some destinations).
    case startTLSNotOffered
    /// TLS is required and the server answered STARTTLS with something other than `220`
    /// (RFC 3207 §4).
    case startTLSRefused(SMTPReply)
    /// A reply where none of its kind can be: `354` to anything but DATA, `2yz` to DATA, a
    /// `3yz` to the end of data, or a reply when none was asked for (RFC 5321 §4.2, §4.3.2).
    case unexpectedReply(SMTPReply, after: String)
    /// A transaction was begun on a session that is closed or not yet open (after a `421`,
    /// a failure or QUIT).
    case notReady

    public var description: String {
        switch self {
        case .refused(let reply): reply.singleLineText
        case .startTLSNotOffered: "STARTTLS not offered"
        case .startTLSRefused(let reply): "STARTTLS refused: \(reply.code) \(reply.text)"
        case .unexpectedReply(let reply, let after): "protocol error: unexpected reply \(reply.singleLineText) to \(after)"
        case .notReady: "the session is closed"
        }
    }

    /// The server's reply behind the failure, if one.
    public var reply: SMTPReply? {
        switch self {
        case .refused(let reply), .startTLSRefused(let reply), .unexpectedReply(let reply, _): reply
        case .startTLSNotOffered, .notReady: nil
        }
    }
}
