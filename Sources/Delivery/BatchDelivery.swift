import Logging
import NIOCore
import Queue
import RelayCore
import SMTPClient
import SMTPProtocol

/// Delivers one claimed batch (one destination domain, one egress IP): one connection
/// (the caller's, if it still has one open from this IP, else a new one) reused for every
/// message, several RCPTs per transaction (one, from its own VERP address, for a message
/// sent with a return path: `MailTransactions`). Each item's outcome (events, retries) is handed
/// to `settle` as soon as its transaction ends, so the worker records it while the next
/// message is being sent — a worker killed mid-batch leaves only the item in flight to be
/// delivered again. Every remote failure reply is shown to `onFailureReply` (adaptive
/// backoff), which may stop the batch: the items not yet tried are returned.
struct BatchDelivery {
    enum Decision: Sendable { case proceed, stop }

    struct Outcome {
        /// Items not attempted (to be given back).
        var untried: [WorkItem] = []
        /// The connection, still open and usable for the next batch; nil when it was closed
        /// (lost, or the batch was stopped by a backoff rule).
        var session: SMTPDeliverySession?
    }

    let context: DeliveryContext
    let batch: ClaimedBatch
    let route: Result<[DestinationRouter.Target], DestinationRouter.RoutingError>
    let origin: SMTPDeliverySession.Origin

    func run(
        session openSession: SMTPDeliverySession?, settle record: (WorkOutcome) -> Void,
        onFailureReply: (SMTPReply) async -> Decision
    ) async throws(QueueError) -> Outcome {
        var logger = context.logger
        logger[metadataKey: "domain"] = "\(batch.domain)"
        logger[metadataKey: "egress_ip"] = "\(batch.egress)"
        let ids = Array(Set(batch.items.map(\.queueID)))
        let messages = try await context.queue.loadMessages(ids)

        let planner = OutcomePlanner(
            settings: context.settings, batch: batch, node: context.node, classifier: context.bounceClassifier,
            backoff: context.backoff)
        func settle(_ item: WorkItem, _ results: [RecipientResult]) {
            var rng = SystemRandomNumberGenerator()
            let now = WallClock.nowMilliseconds()
            let outcome = planner.outcome(for: item, results: results, message: messages[item.queueID], now: now, using: &rng)
            report(outcome, now: now)
            record(outcome)
            if let notifier = context.senderNotifier, let message = messages[item.queueID], message.notifySender,
                outcome.events.contains(where: { $0.event == .bounced || $0.event == .expired })
            {
                let pool = batch.pool
                Task { await notifier.notify(message, events: outcome.events, pool: pool) }
            }
            if let suppressor = context.bounceSuppressor, outcome.events.contains(where: BounceSuppressor.applies(to:)) {
                let events = outcome.events
                Task { await suppressor.suppress(events) }
            }
        }
        func failAll(_ items: some Sequence<WorkItem>, _ failure: RecipientFailure) {
            for item in items {
                settle(
                    item,
                    item.recipients.map {
                        RecipientResult(recipient: $0, kind: failure.isPermanent ? .bounced : .deferred, reply: failure.reply)
                    })
            }
        }

        for item in batch.items where messages[item.queueID] == nil {
            logger.error("work item refers to a message that is gone; dropping it", metadata: ["queue_id": "\(item.queueID)"])
            settle(item, [])
        }
        var deliverable = batch.items.filter { messages[$0.queueID] != nil }
        // RFC 5321 §6.3: a message that went round a loop is bounced, not sent round again.
        var looping: [QueueID: String] = [:]
        for (id, message) in messages {
            looping[id] = HopLimit.refusal(storedMessage: message.body.readableBytesView, limit: context.maxReceivedHeaders)
        }
        if !looping.isEmpty {
            for item in deliverable {
                guard let reply = looping[item.queueID] else { continue }
                logger.notice("mail loop: too many Received: fields; bouncing", metadata: ["queue_id": "\(item.queueID)"])
                settle(item, item.recipients.map { RecipientResult(recipient: $0, kind: .bounced, reply: reply) })
            }
            deliverable.removeAll { looping[$0.queueID] != nil }
        }
        guard !deliverable.isEmpty else { return Outcome(session: openSession) }

        let targets: [DestinationRouter.Target]
        switch route {
        case .success(let found): targets = found
        case .failure(let error):
            failAll(deliverable, RecipientFailure(reply: error.reply, isPermanent: error.isPermanent))
            await openSession?.quit()
            return Outcome()
        }
        var session: SMTPDeliverySession
        if let openSession {
            session = openSession
        } else {
            do {
                session = try await SMTPDeliverySession.open(
                    targets: targets, domain: batch.domain, origin: origin, context: context, logger: logger)
            } catch {
                if let reply = error.remoteReply, await onFailureReply(reply) == .stop {
                    return Outcome(untried: deliverable)
                }
                failAll(deliverable, error)
                return Outcome()
            }
        }
        let transactions = MailTransactions(
            keyring: context.returnPaths?.current, maxRecipientsPerTransaction: context.settings.maxRecipientsPerTransaction,
            logger: logger)
        // Every transaction of the batch, planned up front so each can name the next one,
        // whose envelope then goes out with this content (RFC 2920 §3.1).
        let plans = deliverable.map { item in
            let message = messages[item.queueID]!
            return (content: Self.content(of: message, queue: context.queue), transactions: transactions.plan(item, message: message))
        }
        let envelopes = plans.flatMap { plan in
            plan.transactions.map {
                SMTPDeliverySession.NextEnvelope(sender: $0.sender, recipients: $0.recipients, size: plan.content.size)
            }
        }
        var sent = 0
        for (index, item) in deliverable.enumerated() {
            let plan = plans[index]
            var results: [RecipientResult] = []
            do {
                for transaction in plan.transactions {
                    sent += 1
                    let next = origin.pipelinesNextMessage && sent < envelopes.count ? envelopes[sent] : nil
                    results += try await session.transact(
                        sender: transaction.sender, recipients: transaction.recipients, content: plan.content, next: next)
                }
            } catch {
                await session.close()
                let rest = Array(deliverable[(index + 1)...])
                if index == 0 && results.isEmpty && openSession != nil {
                    // The connection kept from the previous batch had been closed meanwhile
                    // (an idle timeout): nothing was tried, so nothing is charged.
                    logger.info("kept connection was closed by the server: \(error)", metadata: ["mx": "\(session.host)"])
                    return Outcome(untried: deliverable)
                }
                // Only the message in flight was attempted; the rest go back untried.
                logger.info("connection lost during delivery: \(error)", metadata: ["mx": "\(session.host)"])
                let lost = "451 4.4.2 Connection to \(session.host) lost: \(error)"
                let done = Set(results.map(\.recipient))
                settle(
                    item,
                    results
                        + item.recipients.filter { !done.contains($0) }.map {
                            RecipientResult(recipient: $0, kind: .deferred, reply: lost)
                        })
                return Outcome(untried: rest)
            }
            settle(item, results)
            var decision = Decision.proceed
            let failures = Set(results.compactMap(\.remoteReply).filter { !$0.isPositive })
            for reply in failures {
                if await onFailureReply(reply) == .stop { decision = .stop }
            }
            if decision == .stop {
                await session.quit()
                return Outcome(untried: Array(deliverable[(index + 1)...]))
            }
            // RFC 5321 §3.8: with a 421 the server closes the connection. The rest of the
            // batch is deferred with that reply rather than retried at once on a new
            // connection: a sender must delay retrying a destination after a failed
            // attempt (§4.5.4.1), and the backoff rules have seen the 421.
            if let closing = failures.first(where: { $0.code == 421 }) {
                await session.close()
                failAll(
                    deliverable[(index + 1)...],
                    RecipientFailure(
                        reply:
                            "\(RemoteText.capped(closing.singleLineText, maxBytes: 400)) (connection closed by the server before this message)"
                    ))
                return Outcome()
            }
            if !session.isUsable {
                // The server closed after this message was decided (a 421 to the RSET that
                // followed it): the rest were not tried on this connection.
                await session.close()
                return Outcome(untried: Array(deliverable[(index + 1)...]))
            }
        }
        return Outcome(session: session)
    }

    /// What is sent for a message: the added header fields (DKIM signatures), then the
    /// stored message — in memory when small, else read from Redis a piece at a time as the
    /// connection takes it, so a 20 MiB message is never held whole (nor copied to join them).
    static func content(of message: StoredMessage, queue: MessageQueue) -> MessageContent {
        let pieces = [message.addedHeader, message.body].compactMap { $0 }
        guard message.isPartial else { return MessageContent(pieces: pieces) }
        let id = message.queueID
        return MessageContent(
            pieces: pieces, thenStored: message.storedSize - message.body.readableBytes, from: message.body.readableBytes,
            pieceSize: Self.pieceSize
        ) { offset, count in try await queue.readBody(queueID: id, offset: offset, count: count) }
    }

    /// How much of a large message is read from Redis at a time while it is sent.
    static let pieceSize = 256 * 1024

    /// Counts and logs an outcome's events (`OutcomePlanner` decides them, without I/O).
    private func report(_ outcome: WorkOutcome, now: Int64) {
        for event in outcome.events {
            DeliveryMetrics.recordOutcome(event.event, site: batch.site, acceptedAt: outcome.item.acceptedAt, now: now)
            if let bounceClass = event.bounceClass, let type = event.bounceType { DeliveryMetrics.recordBounce(bounceClass, type) }
            context.logger.info(
                "\(event.event.rawValue)",
                metadata: [
                    "queue_id": "\(outcome.item.queueID)", "to": "\(event.recipient ?? "")", "mx": "\(event.remoteHost ?? "-")",
                    "egress_ip": "\(batch.egress)", "reply": "\(event.reply ?? "")", "attempt": "\(event.attempt ?? 0)",
                    "bounce_class": "\(event.bounceClass?.rawValue ?? "-")",
                ])
        }
    }
}

extension Array {
    func chunks(of size: Int) -> [ArraySlice<Element>] {
        stride(from: 0, to: count, by: Swift.max(1, size)).map { self[$0..<Swift.min($0 + size, count)] }
    }
}
