import BounceMessages
import Logging
import NIOCore
import Queue
import RelayCore
import SMTPProtocol

/// DSNs to the sender (accounts with `send_dsns`): when recipients of such a message bounce
/// or expire, one RFC 3464 report from `<>` to its envelope sender, listing them, with the
/// original header section enclosed, enqueued like any message (`MAIL FROM:<>`, so a
/// report about a report is never made: RFC 3464 §2, RFC 5321 §4.5.5).
///
/// Which messages get one is decided at intake (`MessageIntake.notifiesSender`: SMTP mail
/// from one of the account's own sending domains), so a report never goes to an address
/// the account could not have sent as. The report is written after the outcome is
/// recorded; a worker killed between the two loses it (at most once, unlike delivery).
struct SenderNotifier: Sendable {
    let queue: MessageQueue
    /// The relay's host name: `Reporting-MTA`, `From: MAILER-DAEMON@…`.
    let hostname: String
    let logger: Logger

    /// The report for `events` of `message` (only its `bounced` and `expired` ones count),
    /// or nil when there is nothing to report or nobody to report to.
    static func compose(
        for message: StoredMessage, events: [DeliveryEvent], hostname: String, now: Int64
    )
        -> (message: NewMessage, bytes: [UInt8])?
    {
        let failed = events.filter { $0.event == .bounced || $0.event == .expired }
        guard message.notifySender, !failed.isEmpty, let sender = message.sender.mailbox else { return nil }
        let recipients = failed.compactMap { event -> DeliveryStatusNotification.Recipient? in
            guard let address = event.recipient else { return nil }
            return DeliveryStatusNotification.Recipient(
                address: address, action: .failed, status: Self.status(of: event), diagnostic: event.reply,
                remoteMTA: event.remoteHost, lastAttempt: now)
        }
        guard !recipients.isEmpty else { return nil }
        let id = QueueID.generate()
        let localPart = "dsn.\(id.rawValue)"
        let bytes = DeliveryStatusNotification(
            reportingMTA: hostname, originalSender: sender.description, recipients: recipients,
            originalHeader: Self.headerSection(of: message.body), arrivalDate: message.acceptedAt, queueID: message.queueID,
            date: now
        ).render(messageIDLocalPart: localPart)
        let new = NewMessage(
            queueID: id, sender: .null, recipients: [sender], messageID: "<\(localPart)@\(hostname)>", size: bytes.count,
            clientIP: nil, authUser: nil)
        return (new, bytes)
    }

    /// Enqueues the report (in `pool`, the original's), logging what happened.
    func notify(_ message: StoredMessage, events: [DeliveryEvent], pool: PoolName) async {
        let now = WallClock.nowMilliseconds()
        guard var (report, bytes) = Self.compose(for: message, events: events, hostname: hostname, now: now) else { return }
        report.pool = pool
        do {
            _ = try await queue.enqueue(report, body: .inline(ByteBuffer(bytes: bytes)), deadline: now + 10_000)
            logger.info(
                "DSN to the sender enqueued", metadata: ["queue_id": "\(report.queueID)", "about": "\(message.queueID)"])
        } catch {
            logger.warning(
                "could not enqueue the DSN to the sender: \(error)", metadata: ["about": "\(message.queueID)"])
        }
    }

    /// The event's enhanced status code (RFC 3463) from its reply, else `4.4.7` for an
    /// expiry (delivery time expired) and `5.0.0` for another permanent failure.
    static func status(of event: DeliveryEvent) -> String {
        // `550 5.1.1 <x@y>: user unknown`: the first word that reads as a code.
        let words = (event.reply ?? "").split(whereSeparator: { $0 == " " || $0 == "-" }).prefix(3)
        if let code = words.lazy.compactMap({ EnhancedStatusCode(String($0)) }).first { return code.description }
        return event.event == .expired ? "4.4.7" : "5.0.0"
    }

    /// The original's header section: up to its first empty line (at most 64 KiB; the
    /// composer cuts more).
    static func headerSection(of body: ByteBuffer) -> [UInt8] {
        let view = body.readableBytesView.prefix(DeliveryStatusNotification.maxOriginalHeaderBytes + 4)
        var lineStart = view.startIndex
        var blank = true
        for index in view.indices {
            switch view[index] {
            case 0x0A:
                // The empty line (LF or CRLF alone) is not part of the header section.
                if blank { return Array(view[view.startIndex..<lineStart]) }
                lineStart = index + 1
                blank = true
            case 0x0D: break
            default: blank = false
            }
        }
        return Array(view)
    }
}
