import BounceClassification
import Queue
import RelayCore
import SMTPProtocol

/// Decides how a work item is settled once its recipients' results are known: which
/// recipients are final (delivered, bounced, expired) and which are retried, when, and the
/// event each one gets. A value with no I/O — the caller records, counts and logs.
struct OutcomePlanner {
    /// `retry_schedule`, `retry_jitter`, `max_age`.
    var settings: DeliverySettings
    /// The batch the item was delivered in: its domain, site and egress go on every event.
    var batch: ClaimedBatch
    /// This worker's identity, for the events' `node`.
    var node: String
    /// Gives every failure its `bounce_class` and `bounce_type`.
    var classifier = BounceClassifier(rules: .shipped)
    /// Adaptive-backoff rules: a reply one of them matches is about the IP's rate, and its
    /// retry is not pinned to that IP (`GreylistRetry`). Nil: no reply counts as throttling.
    var backoff: BackoffRules? = nil

    /// `message` is nil when the message vanished (removed meanwhile): its recipients'
    /// events are still written but nothing is counted as final. `now` is ms since 1970;
    /// `rng` draws the retry's jitter.
    func outcome(
        for item: WorkItem, results: [RecipientResult], message: StoredMessage?, now: Int64,
        using rng: inout some RandomNumberGenerator
    ) -> WorkOutcome {
        let attempt = item.previousAttempts + 1
        let deferred = results.filter { $0.kind == .deferred }
        // A wait the server names (`try again in 300 seconds`) beats the schedule's guess.
        let asked = deferred.compactMap { result in result.remoteReply.flatMap { GreylistRetry.suggestedWait(in: $0.text) } }.max()
        let due = now + (asked ?? retryWait(afterAttempts: item.previousAttempts, using: &rng))
        let pinned = deferred.contains {
            GreylistRetry.pins($0, attempt: attempt) { reply in backoff?.match(reply, site: batch.site) != nil }
        }
        let expires = (item.acceptedAt > 0 ? item.acceptedAt : now) + settings.maxAge.milliseconds
        var events: [DeliveryEvent] = []
        var finalCount = 0
        var retry: [Mailbox] = []
        for result in results {
            let kind: DeliveryEvent.Kind
            switch result.kind {
            case .delivered: kind = .delivered
            case .bounced: kind = .bounced
            // RFC 5321 §4.5.4.1: a sender gives up after a while; the next try would fall
            // after `max_age`, so this one is the last.
            case .deferred: kind = due > expires ? .expired : .deferred
            }
            if kind.isFinal { finalCount += 1 } else { retry.append(result.recipient) }
            var event = DeliveryEvent(
                event: kind, time: WallClock.iso8601(milliseconds: now), queueID: item.queueID.rawValue,
                messageID: message?.messageID, sender: message?.sender.mailbox?.description ?? "")
            event.recipient = result.recipient.description
            event.account = message?.account
            message?.labels?.label(&event)
            event.domain = batch.domain
            event.site = batch.site
            event.egressIP = batch.egress
            event.remoteHost = result.remoteHost
            event.remoteIP = result.remoteIP
            // The reply is the MX server's text: bounded and without control characters
            // before it is stored with every recipient's event, attempt after attempt.
            let suffix = kind == .expired ? " (gave up after \(settings.maxAge))" : ""
            let reply = RemoteText.capped(result.reply, maxBytes: RemoteText.storedLimit - suffix.utf8.count)
            event.reply = reply + suffix
            if kind != .delivered {
                // From the reply as stored: the relay's own failures (no route, DNS, TLS
                // policy) are worded as replies too, so they get their class the same way.
                let (bounceClass, type) = classifier.classify(reply: reply)
                event.bounceClass = bounceClass
                event.bounceType = type
            }
            event.attempt = attempt
            event.acceptedAt = item.acceptedAt > 0 ? WallClock.iso8601(milliseconds: item.acceptedAt) : nil
            if kind == .deferred { event.nextAttemptAt = WallClock.iso8601(milliseconds: due) }
            event.node = node
            events.append(event)
        }
        // A message that vanished has nothing left to account for.
        if message == nil { finalCount = 0 }
        var outcome = WorkOutcome(
            item: item, finalCount: finalCount, retry: retry.isEmpty ? nil : (retry, due), events: events,
            account: message?.account)
        if !retry.isEmpty, pinned { outcome.pinnedEgress = batch.egress }
        return outcome
    }

    /// The wait before the next attempt: the schedule's entry for this attempt (its last
    /// entry once the schedule runs out), lengthened by up to `retry_jitter` of itself so
    /// the retries of a batch that failed together do not all come due at once.
    func retryWait(afterAttempts previousAttempts: Int, using rng: inout some RandomNumberGenerator) -> Int64 {
        let schedule = settings.retrySchedule
        var wait = schedule[min(previousAttempts, schedule.count - 1)].milliseconds
        if settings.retryJitter > 0 {
            wait += Int64(Double(wait) * Double.random(in: 0...settings.retryJitter, using: &rng))
        }
        return wait
    }
}
