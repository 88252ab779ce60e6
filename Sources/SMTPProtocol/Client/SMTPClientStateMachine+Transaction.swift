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
extension SMTPClientStateMachine {
    struct Transaction: Hashable, Sendable {
        var recipients: [ForwardPath]
        var pipelined: Bool
        var mailReply: SMTPReply?
        var recipientReplies: [SMTPReply] = []
        var dataReply: SMTPReply?

        var accepted: Int { recipientReplies.filter(\.isPositive).count }
    }

    /// Starts a transaction for `recipients` of a message of `size` octets. SIZE (RFC 1870
    /// §6) and BODY=8BITMIME (RFC 6152 §2) are declared when offered; SMTPUTF8 (RFC 6531
    /// §3.4) when offered and an address needs it.
    public mutating func beginTransaction(from sender: ReversePath, to recipients: [ForwardPath], size: Int) -> SMTPClientAction {
        guard state == .ready else { return .fail(.notReady, quit: false) }
        guard !recipients.isEmpty else { return .transactionComplete(SMTPTransactionOutcome(recipients: [])) }
        let needsUTF8 = (sender.mailbox?.requiresSMTPUTF8 ?? false) || recipients.contains { $0.mailbox?.requiresSMTPUTF8 ?? false }
        let parameters = MailParameters(
            size: capabilities.size != nil ? size : nil,
            body: capabilities.eightBitMIME ? .eightBitMIME : nil,
            smtpUTF8: needsUTF8 && capabilities.smtpUTF8)
        let mail = SMTPCommand.mail(sender, parameters)
        let transaction = Transaction(recipients: recipients, pipelined: capabilities.pipelining)
        state = .transaction(transaction)
        if transaction.pipelined {
            return .send([mail] + recipients.map { .rcpt($0, []) } + [.data])
        }
        return .send([mail])
    }

    mutating func receiveInTransaction(_ reply: SMTPReply) -> SMTPClientAction {
        switch state {
        case .transaction(var transaction):
            return receiveEnvelopeReply(reply, &transaction)
        case .sendingBody(let transaction):
            guard !reply.isIntermediate else { return fail(.unexpectedReply(reply, after: "the end of data")) }
            if reply.code == 421 { state = .closed } else { state = .ready }
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
            state = .sendingBody(transaction)
            return .sendBody
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
