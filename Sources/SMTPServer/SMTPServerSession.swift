import NIOCore
import SMTPProtocol

/// The session logic behind an ``SMTPServerHandler``: what a server does with what the
/// client sends. The glue owns the bytes (framing, replies, TLS, timers, back-pressure);
/// the session owns the meaning (an ``SMTPServerStateMachine``, policy, storage).
///
/// Every method is called on the channel's event loop. The session answers by calling the
/// handler it is given (``SMTPServerHandler/write(_:)``, ``SMTPServerHandler/close(with:)``,
/// ``SMTPServerHandler/startTLS(_:context:)``, ``SMTPServerHandler/hold(until:then:)``…),
/// and sets ``SMTPServerHandler/framerMode`` after each state machine action.
///
/// ```
/// glue                               session
/// channelActive         ──────────▶  sessionStarted      → write(220 …)
/// "EHLO x\r\n"          ──────────▶  receive(.line)      → write(250-…)
/// "DATA\r\n"            ──────────▶  receive(.line)      → write(354), framerMode = .data
/// content               ──────────▶  receive(.dataChunk) (as it arrives)
/// "\r\n.\r\n"           ──────────▶  receive(.dataEnd)   → hold(until: stored) { write(250 …) }
/// idle / slow / 5 min   ──────────▶  closing(because:)   ← the glue answers 421 and closes
/// ```
public protocol SMTPServerSession: AnyObject {
    /// The connection is open: write the greeting, or refuse with ``SMTPServerHandler/close(with:)``.
    func sessionStarted(on server: SMTPServerHandler)
    /// One frame from the client, in order; none arrives while the session holds input.
    func receive(_ frame: SMTPFrame, on server: SMTPServerHandler)
    /// The glue is ending the session itself (a timeout, a refused STARTTLS, an error),
    /// for logs and metrics; the reply, if any, is already decided.
    func closing(because reason: SMTPServerCloseReason, on server: SMTPServerHandler)
    /// The connection is closed.
    func sessionEnded(on server: SMTPServerHandler)
}

/// Why the glue ends a session on its own.
public enum SMTPServerCloseReason: Sendable {
    /// Nothing arrived for the idle timeout (`421 4.4.2 … Idle timeout`).
    case idle
    /// The session lasted longer than ``SMTPServerHandler/Configuration/sessionTimeout``.
    case sessionTimeLimit
    /// A command line or DATA made too little progress (``SlowClientGuard``; `421 4.4.2`).
    case tooSlow(inData: Bool)
    /// Bytes followed `STARTTLS` before the handshake (CVE-2011-0411; `501 5.5.4`), or no
    /// TLS context was available.
    case startTLSRefused
    /// The TLS handler could not be added.
    case startTLSFailed(any Error)
    /// The listener shuts down (`421 4.3.2`, after any message in progress).
    case shutdown
    /// The channel reported an error.
    case error(any Error)
}

extension SMTPReply {
    /// `421 4.4.2 <hostname> Idle timeout, closing connection` (RFC 5321 §4.5.3.2.7).
    public static func idleTimeout(hostname: String) -> SMTPReply {
        SMTPReply(421, "4.4.2", "\(hostname) Idle timeout, closing connection")
    }

    /// `421 4.4.2 <hostname> Session time limit exceeded, closing`.
    public static func sessionTimeLimit(hostname: String) -> SMTPReply {
        SMTPReply(421, "4.4.2", "\(hostname) Session time limit exceeded, closing")
    }

    /// `421 4.4.2 <hostname> Too slow, closing connection`: a line or the data did not
    /// arrive in time (``SlowClientGuard``).
    public static func tooSlow(hostname: String) -> SMTPReply {
        SMTPReply(421, "4.4.2", "\(hostname) Too slow, closing connection")
    }

    /// `421 4.3.2 <hostname> Service shutting down, closing connection` (RFC 5321 §3.8).
    public static func shuttingDown(hostname: String) -> SMTPReply {
        SMTPReply(421, "4.3.2", "\(hostname) Service shutting down, closing connection")
    }

    /// `501 5.5.4 No data may follow STARTTLS before the TLS handshake` (RFC 3207 §4,
    /// CVE-2011-0411).
    public static let dataAfterStartTLS = SMTPReply(501, "5.5.4", "No data may follow STARTTLS before the TLS handshake")
}
