/// The policy of one SMTP listener, as ``SMTPServerStateMachine`` applies it.
public struct SMTPServerConfiguration: Sendable {
    /// Our name, in the 220 greeting and the first line of the EHLO reply.
    public var hostname: String
    /// Advertised as `SIZE` (RFC 1870); larger messages get `552 5.3.4`. Default 25 MiB.
    public var maxMessageSize: Int
    /// Recipients per transaction; beyond it RCPT gets `452 4.5.3` (RFC 5321 §4.5.3.1.8
    /// requires at least 100). Default 1000.
    public var maxRecipients: Int
    /// Whether STARTTLS is offered (only while the connection is not yet TLS).
    public var startTLSAvailable: Bool
    /// SASL mechanisms offered, e.g. `["PLAIN", "LOGIN"]` (only PLAIN and LOGIN are
    /// implemented; others are ignored). Offered and accepted only under TLS unless
    /// ``allowAuthWithoutTLS``.
    public var authMechanisms: [String]
    /// Allow AUTH on a plaintext connection. Default false (RFC 4954 §4: plaintext mechanisms need TLS).
    public var allowAuthWithoutTLS: Bool
    /// Whether the client's source address is in the relay allow-list.
    public var clientIsAllowListed: Bool
    /// The reply for recipients when the client is neither allow-listed nor authenticated.
    public var refusalWhenNotPermitted: RelayRefusal
    /// Bad commands (syntax errors, bad sequence, failed AUTH) after which the server
    /// answers `421 4.7.0` and closes. Default 10.
    public var badCommandLimit: Int
    /// Whether the handler checks each recipient the policy accepts before the reply
    /// (a suppression list): RCPT then returns ``SMTPServerAction/checkRecipient(_:)``.
    /// Default false.
    public var checksRecipients: Bool = false

    public init(
        hostname: String,
        maxMessageSize: Int = 25 * 1024 * 1024,
        maxRecipients: Int = 1000,
        startTLSAvailable: Bool = false,
        authMechanisms: [String] = [],
        allowAuthWithoutTLS: Bool = false,
        clientIsAllowListed: Bool = false,
        refusalWhenNotPermitted: RelayRefusal = .relayDenied,
        badCommandLimit: Int = SMTPLimits.badCommandLimit
    ) {
        self.hostname = hostname
        self.maxMessageSize = maxMessageSize
        self.maxRecipients = maxRecipients
        self.startTLSAvailable = startTLSAvailable
        self.authMechanisms = authMechanisms
        self.allowAuthWithoutTLS = allowAuthWithoutTLS
        self.clientIsAllowListed = clientIsAllowListed
        self.refusalWhenNotPermitted = refusalWhenNotPermitted
        self.badCommandLimit = badCommandLimit
    }
}
