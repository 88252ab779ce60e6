extension SMTPServerStateMachine {
    /// Whether the client may relay: allow-listed source or authenticated.
    var isRelayPermitted: Bool {
        self.configuration.clientIsAllowListed || self.authenticatedUser != nil
    }

    /// `MAIL FROM:` (RFC 5321 §4.1.1.2): requires EHLO/HELO, no transaction in progress.
    ///
    /// ```
    /// C: MAIL FROM:<a@example.com> SIZE=1000 BODY=8BITMIME
    /// S: 250 2.1.0 Ok
    /// C: MAIL FROM:<a@example.com> SIZE=999999999
    /// S: 552 5.3.4 Message size exceeds fixed maximum message size   (RFC 1870 §6)
    /// ```
    /// Parameters are accepted only as advertised in the EHLO reply (none after HELO):
    /// others get `555 5.5.4` (RFC 5321 §4.1.1.11). `AUTH=` is accepted and ignored when
    /// AUTH is offered (RFC 4954 §5). A UTF-8 address needs `SMTPUTF8` (`553 5.6.7`,
    /// RFC 6531 §3.5).
    mutating func receiveMail(_ path: ReversePath, _ parameters: MailParameters) -> SMTPServerAction {
        switch self.state {
        case .awaitingHelo:
            return self.badCommand(.needHelo)
        case .transaction:
            return self.badCommand(.nestedMail)
        default:
            break
        }
        if !self.isExtendedSession, !parameters.isEmpty {
            return self.badCommand(.unsupportedParameter)
        }
        for parameter in parameters.other where !(parameter.keyword == "AUTH" && self.isAuthAvailable) {
            return self.badCommand(SMTPReply(555, "5.5.4", "Unsupported parameter: \(parameter.keyword)"))
        }
        if let size = parameters.size, size > self.effectiveMaxMessageSize {
            return .reply(.messageTooLarge)
        }
        if let mailbox = path.mailbox, mailbox.requiresSMTPUTF8, !parameters.smtpUTF8 {
            return .reply(.smtpUTF8Required)
        }
        if let policy = self.senderPolicy {
            if let refusal = policy.refusal { return .reply(refusal) }
            if !policy.allows(domain: path.mailbox?.domain ?? "") {
                return .reply(
                    SMTPReply(
                        553, "5.7.1",
                        "Sender <\(path.mailbox?.description ?? "")> is not in a sending domain of account \(policy.accountName)"))
            }
        }
        self.state = .transaction(PendingTransaction(reversePath: path, parameters: parameters))
        return .reply(.senderOK)
    }

    /// `RCPT TO:` (RFC 5321 §4.1.1.3): requires MAIL.
    ///
    /// ```
    /// C: RCPT TO:<b@example.org>
    /// S: 250 2.1.5 Ok                           (allow-listed or authenticated client)
    /// S: 550 5.7.1 Relay access denied          (otherwise, relay listener)
    /// S: 530 5.7.0 Authentication required      (otherwise, submission listener)
    /// C: RCPT TO:<b@[192.0.2.1]>
    /// S: 550 5.1.2 Address literals are not relayed
    /// C: RCPT TO:<Postmaster>
    /// S: 550 5.1.1 Recipient address rejected: no local mailboxes
    /// ```
    /// Beyond ``SMTPServerConfiguration/maxRecipients``: `452 4.5.3` (RFC 5321 §4.5.3.1.10).
    /// No RCPT parameter is offered (no DSN): any gets `555 5.5.4`.
    /// A client that is not permitted gets the relay refusal for every address, whatever
    /// tricks it contains (source routes, `%`, `!`, address literals): no open relay.
    mutating func receiveRcpt(_ path: ForwardPath, _ parameters: [ESMTPParameter]) -> SMTPServerAction {
        guard case .transaction(var transaction) = self.state else {
            if case .awaitingHelo = self.state {
                return self.badCommand(.needHelo)
            }
            return self.badCommand(.needMail)
        }
        if let parameter = parameters.first {
            return self.badCommand(SMTPReply(555, "5.5.4", "Unsupported parameter: \(parameter.keyword)"))
        }
        let refusal: SMTPReply?
        if path.isPostmaster {
            refusal = .noLocalPostmaster
        } else if !self.isRelayPermitted {
            refusal = self.configuration.refusalWhenNotPermitted.reply
        } else if let mailbox = path.mailbox, mailbox.isAddressLiteral {
            refusal = .addressLiteralsNotRelayed
        } else if let mailbox = path.mailbox, mailbox.requiresSMTPUTF8, !transaction.parameters.smtpUTF8 {
            refusal = .smtpUTF8Required
        } else {
            refusal = nil
        }
        if let refusal {
            transaction.refusedRecipients += 1
            self.state = .transaction(transaction)
            return .reply(refusal)
        }
        if transaction.recipients.count >= self.effectiveMaxRecipients {
            return .reply(.tooManyRecipients)
        }
        if transaction.recipients.contains(where: { Self.isSameRecipient($0, path) }) {
            self.state = .transaction(transaction)
            return .reply(.recipientOK)
        }
        if self.configuration.checksRecipients, let mailbox = path.mailbox {
            self.state = .checkingRecipient(transaction, path)
            return .checkRecipient(mailbox)
        }
        transaction.recipients.append(path)
        self.state = .transaction(transaction)
        return .reply(.recipientOK)
    }

    /// The handler's verdict on the recipient of ``SMTPServerAction/checkRecipient(_:)``:
    /// nil accepts it, a reply refuses it (not a bad command: the address is well formed).
    ///
    /// ```
    /// C: RCPT TO:<gone@example.org>
    /// S: 550 5.1.1 <gone@example.org> suppressed (hard_bounce, 2026-12-01)
    /// ```
    public mutating func recipientChecked(refusal: SMTPReply?) -> SMTPServerAction {
        guard case .checkingRecipient(var transaction, let path) = self.state else {
            return self.handlerMisuse()
        }
        if let refusal {
            transaction.refusedRecipients += 1
            self.state = .transaction(transaction)
            return .reply(refusal)
        }
        transaction.recipients.append(path)
        self.state = .transaction(transaction)
        return .reply(.recipientOK)
    }

    /// Exact duplicates (same local part, same domain ignoring case) are delivered once.
    static func isSameRecipient(_ lhs: ForwardPath, _ rhs: ForwardPath) -> Bool {
        guard let left = lhs.mailbox, let right = rhs.mailbox else { return false }
        return left.localPart == right.localPart && left.normalizedDomain == right.normalizedDomain
    }

    /// `DATA` (RFC 5321 §4.1.1.4): requires at least one accepted recipient.
    ///
    /// ```
    /// C: DATA
    /// S: 354 End data with <CR><LF>.<CR><LF>
    /// ```
    /// Without an accepted recipient: `503 5.5.1`, or `554 5.5.1 No valid recipients` when
    /// every RCPT was refused (RFC 2920 §3.1: a pipelining client sends DATA regardless).
    mutating func receiveData() -> SMTPServerAction {
        switch self.state {
        case .awaitingHelo:
            return self.badCommand(.needHelo)
        case .transaction(let transaction):
            guard !transaction.recipients.isEmpty else {
                if transaction.refusedRecipients > 0 {
                    return .reply(.noValidRecipients)
                }
                return self.badCommand(.needRcpt)
            }
            self.state = .receivingData(transaction)
            return .startData(.startMailInput)
        default:
            return self.badCommand(.needMail)
        }
    }

    /// The framer reported the end of data. Too large → `552 5.3.4` and the transaction is
    /// reset; otherwise the handler enqueues the transaction.
    public mutating func dataEnded(_ summary: DataSummary) -> SMTPServerAction {
        guard case .receivingData(let pending) = self.state else {
            return self.handlerMisuse()
        }
        guard summary.size <= self.effectiveMaxMessageSize else {
            self.state = .ready
            return .reply(.messageTooLarge)
        }
        self.state = .enqueueing
        return .enqueue(
            SMTPTransaction(
                reversePath: pending.reversePath,
                recipients: pending.recipients,
                parameters: pending.parameters,
                heloName: self.heloName ?? "",
                authenticatedUser: self.authenticatedUser,
                isTLS: self.isTLS,
                protocolName: self.protocolName(smtpUTF8: pending.parameters.smtpUTF8),
                dataSummary: summary
            ))
    }

    /// The outcome of enqueueing; the transaction is over either way.
    ///
    /// ```
    /// S: 250 2.0.0 Ok: queued as 01HV5S3K
    /// ```
    public mutating func messageQueued(_ result: QueueResult) -> SMTPServerAction {
        guard case .enqueueing = self.state else {
            return self.handlerMisuse()
        }
        self.state = .ready
        switch result {
        case .queued(let id):
            return .reply(SMTPReply(250, "2.0.0", "Ok: queued as \(id)"))
        case .failed(let reply):
            return .reply(reply)
        }
    }
}
