/// An SMTP command (RFC 5321 §4.1.1 and the extensions this relay speaks).
///
/// ```
/// C: EHLO client.example.com          → .ehlo("client.example.com")
/// C: MAIL FROM:<a@example.com> SIZE=1 → .mail(.mailbox(a@example.com), MailParameters(size: 1))
/// C: RCPT TO:<b@example.org>          → .rcpt(ForwardPath(b@example.org), [])
/// C: DATA                             → .data
/// C: STARTTLS                         → .startTLS          (RFC 3207 §4)
/// C: AUTH PLAIN AGFsaWNlAHNlY3JldA==  → .auth(mechanism: "PLAIN", initialResponse: "AGFs…") (RFC 4954 §4)
/// ```
public enum SMTPCommand: Hashable, Sendable {
    /// `EHLO <domain>` (RFC 5321 §4.1.1.1).
    case ehlo(String)
    /// `HELO <domain>` (RFC 5321 §4.1.1.1).
    case helo(String)
    /// `MAIL FROM:<reverse-path> [params]` (RFC 5321 §4.1.1.2).
    case mail(ReversePath, MailParameters)
    /// `RCPT TO:<forward-path> [params]` (RFC 5321 §4.1.1.3).
    case rcpt(ForwardPath, [ESMTPParameter])
    /// `DATA` (RFC 5321 §4.1.1.4).
    case data
    /// `RSET` (RFC 5321 §4.1.1.5).
    case rset
    /// `NOOP [string]` (RFC 5321 §4.1.1.9); any argument is ignored.
    case noop
    /// `QUIT` (RFC 5321 §4.1.1.10).
    case quit
    /// `VRFY <string>` (RFC 5321 §4.1.1.6).
    case vrfy(String)
    /// `HELP [string]` (RFC 5321 §4.1.1.8).
    case help(String?)
    /// `STARTTLS` (RFC 3207 §4).
    case startTLS
    /// `AUTH <mechanism> [initial-response]` (RFC 4954 §4); the mechanism is uppercased,
    /// the initial response is the base64 text as sent (`=` for an empty response).
    case auth(mechanism: String, initialResponse: String?)

    /// The command verb as sent on the wire.
    public var verb: String {
        switch self {
        case .ehlo: "EHLO"
        case .helo: "HELO"
        case .mail: "MAIL"
        case .rcpt: "RCPT"
        case .data: "DATA"
        case .rset: "RSET"
        case .noop: "NOOP"
        case .quit: "QUIT"
        case .vrfy: "VRFY"
        case .help: "HELP"
        case .startTLS: "STARTTLS"
        case .auth: "AUTH"
        }
    }
}
