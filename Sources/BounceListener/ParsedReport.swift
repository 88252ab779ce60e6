import BounceMessages
import RelayCore

/// The parts of a parsed inbound message the handler acts on.
struct ParsedReport {
    struct Failure {
        var recipient: String?
        var status: String?
        var diagnostic: String?
        var remoteMTA: String?
    }

    struct ComplaintFacts {
        var feedbackType: String?
        var originalRecipient: String?
    }

    enum Body {
        /// Recipients whose delivery failed for good (delay warnings are not failures). A
        /// bounce that names no readable address has one failure without a recipient: the
        /// VERP token still says whose it is.
        case failures([Failure])
        case complaint(ComplaintFacts)
        /// An auto-reply, a delay warning, or nothing recognisable.
        case ignored(String)
    }

    var body: Body
    /// The relay's queue id of the message the report is about, when its headers are
    /// enclosed (the relay's `Received: … id <queue id>`, `X-Hikyaku-Queue-ID:`, or a
    /// `Message-ID: <queue id@host>` the relay generated).
    var originalQueueID: QueueID?
    /// `dsn`, `delay`, `complaint`, `auto_reply`, `unrecognized` — for metrics and logs.
    var metricKind: String

    init(_ report: InboundReport) {
        switch report {
        case .deliveryStatus(let recipients):
            originalQueueID = Self.queueID(
                recipients.lazy.compactMap(\.originalQueueID).first, recipients.lazy.compactMap(\.originalMessageID).first)
            let failed = recipients.filter { $0.action?.lowercased() != "delayed" }
            if recipients.isEmpty {
                body = .failures([Failure()])
                metricKind = "dsn"
            } else if failed.isEmpty {
                body = .ignored("a delay warning")
                metricKind = "delay"
            } else {
                body = .failures(
                    failed.map { Failure(recipient: $0.recipient, status: $0.status, diagnostic: $0.diagnostic, remoteMTA: $0.remoteMTA) })
                metricKind = "dsn"
            }
        case .complaint(let complaint):
            originalQueueID = Self.queueID(complaint.originalQueueID, complaint.originalMessageID)
            body = .complaint(ComplaintFacts(feedbackType: complaint.feedbackType, originalRecipient: complaint.originalRecipient))
            metricKind = "complaint"
        case .autoReply:
            originalQueueID = nil
            body = .ignored("an auto-reply (RFC 3834)")
            metricKind = "auto_reply"
        case .unrecognized:
            originalQueueID = nil
            body = .ignored("not a report this relay recognises")
            metricKind = "unrecognized"
        }
    }

    /// The queue id from the enclosed headers, else from a Message-ID the relay generated
    /// (`<queue id@hostname>`).
    static func queueID(_ found: String?, _ messageID: String?) -> QueueID? {
        if let found, QueueID.isWellFormed(found) { return QueueID(rawValue: found) }
        guard let messageID else { return nil }
        let local = messageID.trimmingPrefix("<").prefix { $0 != "@" }
        return QueueID.isWellFormed(String(local)) ? QueueID(rawValue: String(local)) : nil
    }
}
