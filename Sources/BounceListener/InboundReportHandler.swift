import BounceClassification
import BounceMessages
import Logging
import Queue
import RelayCore
import ReturnPath

/// A message the bounce listener accepted: who sent it, for which of its addresses, and
/// the first ``BounceListener/Configuration/keptBytes`` of its content.
struct InboundMessage: Sendable {
    var sender: String
    var clientIP: String
    var recipients: [InboundRecipient]
    var content: [UInt8]
    var size: Int
}

/// Turns an inbound report into what the relay records: an asynchronous `bounced` event
/// (and a `hard_bounce` suppression for an invalid recipient), a `complaint` event (with a
/// `complaint` suppression and the complaint-rate count), or nothing (an auto-reply, a
/// delay warning, mail to postmaster/abuse that is not a report — logged).
///
/// Which message and recipient a report is about comes from the VERP token when it came
/// to a return path (the token is authenticated; the report's own fields are not), else
/// from the relay's queue id found in the enclosed original headers (its `Received:` or
/// its generated `Message-ID: <queue id@host>`) — feedback loops send there, and
/// Microsoft's redacts the recipient, so a message with one recipient is matched by its
/// id alone.
struct InboundReportHandler: Sendable {
    let store: InboundReportStore
    let suppressions: SuppressionStore
    /// `suppression.expiry.<reason>`, applied to the entries added here.
    let suppressionSettings: SuppressionSettings
    let classifier: BounceClassifier
    /// How long a counted complaint is remembered (`bounces.window`).
    let seenFor: Duration
    let node: String
    let logger: Logger

    func handle(_ message: InboundMessage) async throws {
        let unsubscribes = message.recipients.compactMap { if case .unsubscribe(let token) = $0 { token } else { nil } }
        for token in unsubscribes {
            let wrote = try await suppressions.unsubscribe(
                account: token.account, recipient: token.recipient, campaign: token.campaign, via: .mailto, node: node,
                settings: suppressionSettings)
            if wrote { BounceMetrics.unsubscribed() }
            logger.info("\(wrote ? "unsubscribed" : "already unsubscribed") by mail: \(token.recipient) from account \(token.account)")
        }
        // A message only to unsubscribe addresses says nothing else worth reading.
        guard unsubscribes.count < message.recipients.count else { return }
        let report = BounceParser.parse(message.content)
        let tokens = message.recipients.compactMap { if case .returnPath(let token) = $0 { token } else { nil } }
        let kind = ParsedReport(report)
        BounceMetrics.received(kind.metricKind)
        if tokens.isEmpty {
            logger.notice(
                "inbound \(kind.metricKind) from <\(message.sender)> (\(message.clientIP), \(message.size) bytes) to \(message.recipients.map(Self.describe).joined(separator: ", "))"
            )
        }
        var indexes: [(RecipientIndex, Int?)] = []
        for token in tokens {
            guard let index = try await store.recipientIndex(of: token.queueID) else {
                BounceMetrics.unresolved()
                logger.info("report for \(token.queueID) which is no longer known (older than bounces.window?)")
                continue
            }
            guard token.matches(account: index.account ?? "") else {
                BounceMetrics.unresolved()
                logger.warning("token for \(token.queueID) does not match the message's account; ignored")
                continue
            }
            indexes.append((index, token.recipientIndex))
        }
        if tokens.isEmpty, let queueID = kind.originalQueueID, let index = try await store.recipientIndex(of: queueID) {
            indexes.append((index, nil))
        }
        switch kind.body {
        case .failures(let failures):
            // Only a verified token says a recipient bounced: a DSN sent to postmaster
            // naming a queue id anyone who got the message can read is not trusted with
            // another recipient's address (it would suppress it).
            let authenticated = indexes.filter { $0.1 != nil }
            if authenticated.count < indexes.count {
                logger.notice("a bounce without a return-path token is logged, not recorded")
            }
            try await recordBounces(failures, indexes: authenticated)
        case .complaint(let complaint):
            try await recordComplaint(complaint, indexes: indexes)
        case .ignored(let why):
            logger.debug("inbound message ignored: \(why)")
        }
    }

    // MARK: Bounces

    private func recordBounces(_ failures: [ParsedReport.Failure], indexes: [(RecipientIndex, Int?)]) async throws {
        var events: [DeliveryEvent] = []
        var suppress: [(String, DeliveryEvent)] = []
        for (index, position) in indexes {
            // The recipient is the token's; the report's own recipient only picks which
            // failure line speaks about it. Without a token, only recipients of the message.
            let pairs: [(String, ParsedReport.Failure)]
            if let position {
                guard let recipient = index.recipient(at: position) else { continue }
                let failure = failures.first { $0.recipient?.lowercased() == recipient.lowercased() } ?? failures.first
                guard let failure else { continue }
                pairs = [(recipient, failure)]
            } else {
                let known = Dictionary(index.recipients.map { ($0.lowercased(), $0) }, uniquingKeysWith: { a, _ in a })
                pairs = failures.compactMap { f in f.recipient.flatMap { known[$0.lowercased()] }.map { ($0, f) } }
            }
            for (recipient, failure) in pairs {
                var event = baseEvent(.bounced, index: index, recipient: recipient)
                let reply = [failure.status, failure.diagnostic].compactMap { $0 }.joined(separator: " ")
                let (bounceClass, severity) = classifier.classify(reply: reply)
                event.reply = RemoteText.capped(reply.isEmpty ? "bounced (no reason given)" : reply, maxBytes: RemoteText.storedLimit)
                event.bounceClass = bounceClass
                event.bounceType = severity
                event.remoteHost = failure.remoteMTA
                event.async = true
                events.append(event)
                BounceMetrics.asyncBounce(bounceClass, severity)
                // Only a dead address is suppressed; a block is the sending IP's problem.
                if bounceClass == .invalidRecipient && severity == .hard { suppress.append((recipient, event)) }
            }
        }
        try await store.record(events)
        for (recipient, event) in suppress {
            try await addSuppression(recipient, reason: .hardBounce, event: event)
        }
        if !events.isEmpty { logger.info("recorded \(events.count) asynchronous bounce(s)") }
    }

    // MARK: Complaints

    private func recordComplaint(_ complaint: ParsedReport.ComplaintFacts, indexes: [(RecipientIndex, Int?)]) async throws {
        guard !indexes.isEmpty else {
            BounceMetrics.unresolved()
            logger.notice("complaint about a message this relay does not know (no token, no queue id in the enclosed headers)")
            return
        }
        for (index, position) in indexes {
            let recipient: String?
            if let position {
                recipient = index.recipient(at: position)
            } else if let reported = complaint.originalRecipient,
                let known = index.recipients.first(where: { $0.lowercased() == reported.lowercased() })
            {
                recipient = known
            } else {
                // Redacted (Microsoft JMRP) or missing: only a single-recipient message says who.
                recipient = index.recipients.count == 1 ? index.recipients[0] : nil
            }
            var event = baseEvent(.complaint, index: index, recipient: recipient)
            event.reply = "feedback report: \(complaint.feedbackType ?? "abuse")"
            event.async = true
            // Counted once per message and recipient: a reader complains once, and forged
            // repeats (the queue id is in every copy's headers) cannot pause an account.
            let outcome = try await store.recordComplaint(event, seenFor: seenFor)
            guard outcome != .repeated else {
                logger.info("repeated complaint about \(index.queueID) ignored")
                continue
            }
            BounceMetrics.complaint()
            if let recipient { try await addSuppression(recipient, reason: .complaint, event: event) }
            logger.info(
                "complaint about \(index.queueID) from \(recipient ?? "a redacted recipient")\(outcome == .paused ? "; account \(index.account ?? "") paused" : "")"
            )
        }
    }

    // MARK: Helpers

    private func baseEvent(_ kind: DeliveryEvent.Kind, index: RecipientIndex, recipient: String?) -> DeliveryEvent {
        var event = DeliveryEvent(
            event: kind, time: WallClock.iso8601(milliseconds: WallClock.nowMilliseconds()), queueID: index.queueID.rawValue,
            messageID: index.messageID, sender: index.sender)
        event.recipient = recipient
        event.account = index.account
        if let recipient, let at = recipient.lastIndex(of: "@") {
            event.domain = DomainName(normalizing: String(recipient[recipient.index(after: at)...]))
        }
        event.node = node
        return event
    }

    /// The account's own list; mail without an account (allow-listed relay) has none, and
    /// the global list is the operator's.
    private func addSuppression(_ address: String, reason: SuppressionReason, event: DeliveryEvent) async throws {
        guard let account = event.account else { return }
        let now = WallClock.nowMilliseconds()
        let entry = SuppressionEntry(
            address: address, reason: reason, createdAt: WallClock.iso8601(milliseconds: now), source: event.queueID,
            expiresAt: suppressionSettings.expiry(for: reason, now: now).map { WallClock.iso8601(milliseconds: $0) })
        try await suppressions.add([entry], to: .account(account))
    }

    static func describe(_ recipient: InboundRecipient) -> String {
        switch recipient {
        case .returnPath(let token): "return path of \(token.queueID)"
        case .postmaster: "postmaster"
        case .abuse: "abuse"
        case .feedbackLoop: "a feedback-loop address"
        case .unsubscribe(let token): "the unsubscribe address of \(token.recipient)"
        }
    }
}
