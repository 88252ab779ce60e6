/// A complete mail transaction, handed to the handler to enqueue after the end of data.
public struct SMTPTransaction: Hashable, Sendable {
    public var reversePath: ReversePath
    /// Accepted recipients, in order, without exact duplicates.
    public var recipients: [ForwardPath]
    public var parameters: MailParameters
    /// The name the client gave in EHLO/HELO.
    public var heloName: String
    /// The SASL identity, when the client authenticated.
    public var authenticatedUser: String?
    /// Whether the transaction ran over TLS.
    public var isTLS: Bool
    /// The `with` protocol name for the Received header: `SMTP`, `ESMTP`, `ESMTPS`,
    /// `ESMTPA`, `ESMTPSA` (RFC 3848 §2), or `UTF8SMTP`, `UTF8SMTPS`, `UTF8SMTPA`,
    /// `UTF8SMTPSA` for SMTPUTF8 transactions (RFC 6531 §3.7.3).
    public var protocolName: String
    public var dataSummary: DataSummary

    public init(
        reversePath: ReversePath,
        recipients: [ForwardPath],
        parameters: MailParameters,
        heloName: String,
        authenticatedUser: String?,
        isTLS: Bool,
        protocolName: String,
        dataSummary: DataSummary
    ) {
        self.reversePath = reversePath
        self.recipients = recipients
        self.parameters = parameters
        self.heloName = heloName
        self.authenticatedUser = authenticatedUser
        self.isTLS = isTLS
        self.protocolName = protocolName
        self.dataSummary = dataSummary
    }
}
