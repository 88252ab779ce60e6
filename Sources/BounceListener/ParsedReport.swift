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
        /// Recipients whose delivery failed for good (delay warnings are not failures).
        case failures([Failure])
        case complaint(ComplaintFacts)
        /// An auto-reply, a delay warning, or nothing recognisable.
        case ignored(String)
    }

    var body: Body
    /// The relay's queue id of the message the report is about, when its headers are enclosed.
    var originalQueueID: QueueID?
    /// `dsn`, `complaint`, `auto_reply`, `delay`, `unrecognized` — for metrics and logs.
    var metricKind: String

    init(_ report: InboundReport) {
        originalQueueID = nil
        switch report {
        case .deliveryStatus(let recipients):
            let failed = recipients.filter { ($0.action ?? "failed").lowercased() == "failed" }
            if failed.isEmpty {
                body = .ignored("a delay warning")
                metricKind = "delay"
            } else {
                body = .failures(
                    failed.map { Failure(recipient: $0.recipient, status: $0.status, diagnostic: $0.diagnostic, remoteMTA: $0.remoteMTA) })
                metricKind = "dsn"
            }
        case .complaint(let complaint):
            body = .complaint(ComplaintFacts(feedbackType: complaint.feedbackType, originalRecipient: complaint.originalRecipient))
            metricKind = "complaint"
        case .autoReply:
            body = .ignored("an auto-reply (RFC 3834)")
            metricKind = "auto_reply"
        case .unrecognized:
            body = .ignored("not a report this relay recognises")
            metricKind = "unrecognized"
        }
    }
}
