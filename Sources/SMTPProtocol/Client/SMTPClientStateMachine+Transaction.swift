/// Mail transactions (RFC 5321 §3.3, §4.1.1.2–4.1.1.5), pipelined when the server offers
/// PIPELINING (RFC 2920 §3.1: MAIL, every RCPT and DATA in one write, DATA last).
///
/// ```
/// C: MAIL FROM:<a@example.com> SIZE=1234 BODY=8BITMIME   beginTransaction → .send([MAIL, RCPT, RCPT, DATA])
/// C: RCPT TO:<b@example.org>
/// C: RCPT TO:<c@example.org>
/// C: DATA
/// S: 250 2.1.0 Ok                                        receive → .awaitReply
/// S: 250 2.1.5 Ok                                        receive → .awaitReply
/// S: 550 5.1.1 No such user                              receive → .awaitReply
/// S: 354 End data with <CR><LF>.<CR><LF>                 receive → .sendBody
/// C: …content… .
/// S: 250 2.0.0 Ok: queued                                receive → .transactionComplete(b: 250, c: 550)
/// ```
///
/// A failed transaction is followed by RSET (§4.1.1.5) so the next one starts clean; a
/// `354` that comes although nothing is to be delivered is answered with an empty content
/// (RFC 2920 §3.1). A `421` ends the transaction at once: the server closes the connection
/// (§3.8), so every recipient not yet decided gets that reply.
///
/// With PIPELINING, the next transaction's envelope can follow a message's content in the
/// same write (RFC 2920 §3.1: "the actual transfer of message content is explicitly
/// allowed to be the first command in a group"), so each message on a kept connection
/// costs one round trip instead of two. Announce it with ``chainNextTransaction(from:to:size:)``
/// before the content is sent:
///
/// ```
/// C: …content of message 1… .                            .sendBody(then: [MAIL, RCPT, DATA])
/// C: MAIL FROM:<a@example.com>                           (same write)
/// C: RCPT TO:<d@example.org>
/// C: DATA
/// S: 250 2.0.0 Ok: queued                                receive → .transactionComplete(message 1)
///                                                        beginTransaction(message 2) → .awaitReply
/// S: 250 2.1.0 Ok / 250 2.1.5 Ok / 354 Go ahead          receive… → .sendBody(then: …)
/// ```
extension SMTPClientStateMachine {
    struct Transaction: Hashable, Sendable {
        var sender: ReversePath
        var recipients: [ForwardPath]
        var pipelined: Bool
        /// Its commands went out after the previous transaction's content, before the caller
        /// began it (``beginTransaction(from:to:size:)`` then only waits for their replies).
        var sentAhead = false
        /// Announced by ``chainNextTransaction(from:to:size:)``: goes out after this content.
        var next: NextTransaction?
        var mailReply: SMTPReply?
        var recipientReplies: [SMTPReply] = []
        var dataReply: SMTPReply?

        var accepted: Int { recipientReplies.filter(\.isPositive).count }

        /// Replies still due for the commands already sent.
        var outstandingReplies: Int {
            guard pipelined else { return 1 }
            return (mailReply == nil ? 1 : 0) + (recipients.count - recipientReplies.count) + (dataReply == nil ? 1 : 0)
        }
    }

    /// The transaction announced to follow the current one's content.
    struct NextTransaction: Hashable, Sendable {
        var sender: ReversePath
        var recipients: [ForwardPath]
        var size: Int
    }

    /// Starts a transaction for `recipients` of a message of `size` octets. SIZE (RFC 1870
    /// §6) and BODY=8BITMIME (RFC 6152 §2) are declared when offered; SMTPUTF8 (RFC 6531
    /// §3.4) when offered and an address needs it.
    ///
    /// If this transaction was announced with ``chainNextTransaction(from:to:size:)`` and its
    /// commands already went out after the previous content, this only waits for their
    /// replies (`.awaitReply`; read ``expectedReplies`` of them). The envelope must then be the
    /// announced one.
    public mutating func beginTransaction(from sender: ReversePath, to recipients: [ForwardPath], size: Int) -> SMTPClientAction {
        if case .transaction(var sent) = state, sent.sentAhead {
            precondition(
                sent.sender == sender && sent.recipients == recipients,
                "beginTransaction() with another envelope than the one chained after the previous content")
            sent.sentAhead = false
            state = .transaction(sent)
            return .awaitReply
        }
        guard state == .ready else { return .fail(.notReady, quit: false) }
        guard !recipients.isEmpty else { return .transactionComplete(SMTPTransactionOutcome(recipients: [])) }
        let transaction = Transaction(sender: sender, recipients: recipients, pipelined: capabilities.pipelining)
        state = .transaction(transaction)
        if transaction.pipelined {
            return .send(envelopeCommands(from: sender, to: recipients, size: size))
        }
        return .send([mailCommand(from: sender, to: recipients, size: size)])
    }

    /// Announces the transaction that follows the current one, so that its envelope can go
    /// out in the same write as the current content (RFC 2920 §3.1). It does when the server
    /// offers PIPELINING and the current transaction reaches its content; otherwise it is
    /// begun as usual. The caller must then begin exactly this transaction next.
    public mutating func chainNextTransaction(from sender: ReversePath, to recipients: [ForwardPath], size: Int) {
        guard case .transaction(var current) = state, capabilities.pipelining, !recipients.isEmpty else { return }
        current.next = NextTransaction(sender: sender, recipients: recipients, size: size)
        state = .transaction(current)
    }

    /// How many replies the glue should read on `.awaitReply`: those due for every command
    /// already sent (one, outside a pipelined transaction).
    public var expectedReplies: Int {
        if case .transaction(let transaction) = state { return max(1, transaction.outstandingReplies) }
        return 1
    }

    /// A transaction's commands are out and its end of data is not: the server may be
    /// reading content (after its `354`), e.g. for a transaction chained after the last one.
    var hasTransactionInProgress: Bool {
        switch state {
        case .transaction, .sendingBody, .abortingData: true
        default: false
        }
    }

    private func mailCommand(from sender: ReversePath, to recipients: [ForwardPath], size: Int) -> SMTPCommand {
        let needsUTF8 = (sender.mailbox?.requiresSMTPUTF8 ?? false) || recipients.contains { $0.mailbox?.requiresSMTPUTF8 ?? false }
        let parameters = MailParameters(
            size: capabilities.size != nil ? size : nil,
            body: capabilities.eightBitMIME ? .eightBitMIME : nil,
            smtpUTF8: needsUTF8 && capabilities.smtpUTF8)
        return .mail(sender, parameters)
    }

    private func envelopeCommands(from sender: ReversePath, to recipients: [ForwardPath], size: Int) -> [SMTPCommand] {
        [mailCommand(from: sender, to: recipients, size: size)] + recipients.map { .rcpt($0, []) } + [.data]
    }

    mutating func receiveInTransaction(_ reply: SMTPReply) -> SMTPClientAction {
        switch state {
        case .transaction(var transaction):
            return receiveEnvelopeReply(reply, &transaction)
        case .sendingBody(let transaction, let chained):
            guard !reply.isIntermediate else { return fail(.unexpectedReply(reply, after: "the end of data")) }
            if reply.code == 421 {
                // §3.8: the server closes; the chained commands were never taken.
                state = .closed
            } else if let chained {
                state = .transaction(chained)
            } else {
                state = .ready
            }
            return .transactionComplete(outcome(transaction, final: reply))
        case .abortingData(let transaction):
            // The reply to an empty content delivers nothing; the outcome is the earlier refusals.
            if transaction.mailReply?.isPositive == true || reply.code == 421 {
                state = reply.code == 421 ? .closed : .ready
                return .transactionComplete(outcome(transaction, final: nil))
            }
            return reset(outcome(transaction, final: nil))
        case .resetting(let outcome):
            state = reply.code == 421 ? .closed : .ready
            return .transactionComplete(outcome)
        default:
            preconditionFailure("receiveInTransaction() while \(state)")
        }
    }

    private mutating func receiveEnvelopeReply(_ reply: SMTPReply, _ transaction: inout Transaction) -> SMTPClientAction {
        let expected: SMTPCommandVerb =
            transaction.mailReply == nil
            ? .mail
            : transaction.recipientReplies.count < transaction.recipients.count ? .rcpt : .data
        // 354 answers DATA only; 2yz to DATA would mean content the server never asked for.
        if expected == .data ? reply.code != 354 && reply.isPositive : reply.isIntermediate {
            return fail(.unexpectedReply(reply, after: expected.rawValue))
        }
        switch expected {
        case .mail: transaction.mailReply = reply
        case .rcpt: transaction.recipientReplies.append(reply)
        case .data: transaction.dataReply = reply
        }
        if reply.code == 421 {
            // RFC 5321 §3.8: the server is closing; what was not answered shares the 421.
            state = .closed
            if transaction.mailReply?.isPositive == true {
                transaction.recipientReplies += Array(
                    repeating: reply, count: transaction.recipients.count - transaction.recipientReplies.count)
                transaction.dataReply = transaction.dataReply ?? reply
            }
            return .transactionComplete(outcome(transaction, final: nil))
        }
        state = .transaction(transaction)
        if transaction.pipelined {
            return transaction.dataReply == nil ? .awaitReply : decide(transaction)
        }
        // One command at a time: stop at a refused MAIL, DATA only after an accepted RCPT.
        switch expected {
        case .mail where reply.isPositive, .rcpt where transaction.recipientReplies.count < transaction.recipients.count:
            return .send([.rcpt(transaction.recipients[transaction.recipientReplies.count], [])])
        case .rcpt where transaction.accepted > 0:
            return .send([.data])
        default:
            return decide(transaction)
        }
    }

    /// The envelope command a reply answers.
    private enum SMTPCommandVerb: String {
        case mail = "MAIL", rcpt = "RCPT", data = "DATA"
    }

    /// Every reply of the envelope is in (or the rest was not sent): go on to the content,
    /// or end the transaction.
    private mutating func decide(_ transaction: Transaction) -> SMTPClientAction {
        let started = transaction.dataReply?.code == 354
        if started && (transaction.mailReply?.isPositive != true || transaction.accepted == 0) {
            state = .abortingData(transaction)
            return .sendEmptyBody
        }
        if started {
            guard let next = transaction.next, transaction.pipelined else {
                state = .sendingBody(transaction, then: nil)
                return .sendBody(then: [])
            }
            let chained = Transaction(sender: next.sender, recipients: next.recipients, pipelined: true, sentAhead: true)
            state = .sendingBody(transaction, then: chained)
            return .sendBody(then: envelopeCommands(from: next.sender, to: next.recipients, size: next.size))
        }
        return reset(outcome(transaction, final: nil))
    }

    private mutating func reset(_ outcome: SMTPTransactionOutcome) -> SMTPClientAction {
        state = .resetting(outcome)
        return .send([.rset])
    }

    /// Each recipient's deciding reply: MAIL's refusal for all; else its RCPT refusal, or for
    /// the accepted ones the DATA refusal or the end-of-data reply.
    private func outcome(_ transaction: Transaction, final: SMTPReply?) -> SMTPTransactionOutcome {
        SMTPTransactionOutcome(
            recipients: transaction.recipients.enumerated().map { index, recipient in
                if let mail = transaction.mailReply, !mail.isPositive {
                    return SMTPRecipientOutcome(recipient: recipient, reply: mail, stage: .mail)
                }
                let rcpt = transaction.recipientReplies[index]
                if !rcpt.isPositive { return SMTPRecipientOutcome(recipient: recipient, reply: rcpt, stage: .recipient) }
                if let final { return SMTPRecipientOutcome(recipient: recipient, reply: final, stage: .endOfData) }
                // Accepted, but DATA did not start: its refusal applies to every accepted recipient.
                return SMTPRecipientOutcome(recipient: recipient, reply: transaction.dataReply!, stage: .data)
            })
    }
}
