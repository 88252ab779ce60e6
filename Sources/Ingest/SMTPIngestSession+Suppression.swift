import HikyakuMetrics
import NIOCore
import Queue
import RelayCore
import SMTPProtocol
import SMTPServer

// MARK: Suppression lists at RCPT

extension SMTPIngestSession {
    /// Looks the recipient up on the session's account's list and the global one; a
    /// suppressed address is refused with its reason and date and gets a `suppressed`
    /// event (no queue id yet). If Redis does not answer the recipient is accepted: the
    /// enqueue checks the lists again and is the authority.
    ///
    /// ```
    /// C: RCPT TO:<gone@example.org>
    /// S: 550 5.1.1 <gone@example.org> suppressed (hard_bounce, 2026-12-01)
    /// ```
    func checkSuppression(of mailbox: Mailbox, _ server: SMTPServerHandler) {
        let store = context.queue.suppressions
        let address = mailbox.description
        let accountName = account?.name
        var template = DeliveryEvent(
            event: .suppressed, time: "", queueID: "", messageID: nil,
            sender: stateMachine.transactionReversePath?.mailbox?.description ?? "")
        template.recipient = address
        template.account = accountName
        template.clientIP = clientIP
        template.authUser = stateMachine.authenticatedUser
        let event = template
        let logger = self.logger
        let lookup = server.task { () async throws -> SMTPReply? in
            let found: (scope: SuppressionScope, entry: SuppressionEntry)?
            do { found = try await store.lookup(address, account: accountName) } catch {
                logger.warning("suppression lookup failed, recipient accepted (the enqueue checks again): \(error)")
                return nil
            }
            guard let found else { return nil }
            var event = event
            event.time = WallClock.iso8601(milliseconds: WallClock.nowMilliseconds())
            event.suppression = found.entry.reason.rawValue
            try? await store.record(event)
            return SMTPReply(550, "5.1.1", "<\(address)> suppressed (\(found.entry.reason.rawValue), \(found.entry.createdDate))")
        }
        server.hold(until: lookup) { [self] server, result in
            let refusal = (try? result.get()) ?? nil
            if let refusal {
                logger.info("recipient refused: suppressed", metadata: ["recipient": "\(address)", "reply": "\(refusal.text)"])
                IngestMetrics.refused(listener: context.listener.name, reason: .suppressed)
            }
            perform(stateMachine.recipientChecked(refusal: refusal), server)
        }
    }
}
