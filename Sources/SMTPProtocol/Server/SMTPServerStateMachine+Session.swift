extension SMTPServerStateMachine {
    /// `EHLO` / `HELO` (RFC 5321 §4.1.1.1, §4.1.4): resets any transaction.
    ///
    /// ```
    /// C: EHLO client.example.com
    /// S: 250-mx.example.net Hello client.example.com
    /// S: 250-PIPELINING
    /// S: 250-SIZE 26214400
    /// S: 250-8BITMIME
    /// S: 250-SMTPUTF8
    /// S: 250-ENHANCEDSTATUSCODES
    /// S: 250-STARTTLS             (if offered and not yet TLS)
    /// S: 250-AUTH PLAIN LOGIN     (if offered and TLS, or allowed without)
    /// S: 250 HELP
    /// C: HELO client.example.com
    /// S: 250 mx.example.net
    /// ```
    /// EHLO and HELO replies carry no enhanced status code (RFC 2034 §3).
    mutating func receiveHelo(_ name: String, extended: Bool) -> SMTPServerAction {
        self.state = .ready
        self.heloName = name
        self.isExtendedSession = extended
        let hostname = self.configuration.hostname
        guard extended else {
            return .reply(SMTPReply(code: 250, lines: [hostname]))
        }
        var lines = [
            "\(hostname) Hello \(name)",
            "PIPELINING",
            "SIZE \(self.configuration.maxMessageSize)",
            "8BITMIME",
            "SMTPUTF8",
            "ENHANCEDSTATUSCODES",
        ]
        if self.configuration.startTLSAvailable, !self.isTLS {
            lines.append("STARTTLS")
        }
        if self.isAuthAvailable {
            lines.append((["AUTH"] + self.offeredMechanisms).joined(separator: " "))
        }
        lines.append("HELP")
        return .reply(SMTPReply(code: 250, lines: lines))
    }

    /// `STARTTLS` (RFC 3207 §4): offered only while not yet TLS, not inside a transaction.
    ///
    /// ```
    /// C: STARTTLS
    /// S: 220 2.0.0 Ready to start TLS
    /// ```
    mutating func receiveStartTLS() -> SMTPServerAction {
        if self.isTLS {
            return self.badCommand(.tlsAlreadyActive)
        }
        guard self.configuration.startTLSAvailable else {
            return self.badCommand(.commandNotImplemented)
        }
        switch self.state {
        case .awaitingHelo:
            return self.badCommand(.needHelo)
        case .transaction:
            return self.badCommand(.notInTransaction)
        default:
            self.state = .startingTLS
            return .startTLS(.readyToStartTLS)
        }
    }

    /// The TLS handshake completed. RFC 3207 §4.2: the server discards all knowledge
    /// obtained from the client before TLS (greeting, authentication); the client must
    /// send EHLO again.
    public mutating func tlsEstablished() {
        self.isTLS = true
        self.heloName = nil
        self.isExtendedSession = false
        self.authenticatedUser = nil
        self.state = .awaitingHelo
    }

    /// The `with` protocol name for the Received header of the current transaction
    /// (RFC 3848 §2, RFC 6531 §3.7.3): the same value the ``SMTPTransaction`` will carry,
    /// available from `startData` on so the header can be written before the content.
    public var protocolName: String {
        self.protocolName(smtpUTF8: self.pendingTransaction?.parameters.smtpUTF8 ?? false)
    }

    /// The recipients accepted so far in the current transaction (empty outside one).
    public var transactionRecipients: [ForwardPath] {
        self.pendingTransaction?.recipients ?? []
    }

    /// The reverse-path of the current transaction, if one is in progress.
    public var transactionReversePath: ReversePath? {
        self.pendingTransaction?.reversePath
    }

    private var pendingTransaction: PendingTransaction? {
        switch self.state {
        case .transaction(let transaction), .receivingData(let transaction), .checkingRecipient(let transaction, _): transaction
        default: nil
        }
    }

    /// `SMTP`, `ESMTP`, `UTF8SMTP` + `S` under TLS + `A` when authenticated.
    func protocolName(smtpUTF8: Bool) -> String {
        guard self.isExtendedSession else { return "SMTP" }
        var name = smtpUTF8 ? "UTF8SMTP" : "ESMTP"
        if self.isTLS {
            name += "S"
        }
        if self.authenticatedUser != nil {
            name += "A"
        }
        return name
    }
}
