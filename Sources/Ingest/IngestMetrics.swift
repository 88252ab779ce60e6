import HikyakuMetrics
import Metrics
import SMTPProtocol

/// The ingest side's metrics, by the catalogue (``MetricNames``: names, label order,
/// refusal reasons).
enum IngestMetrics {
    static func accepted(listener: String) {
        Counter(label: MetricNames.messagesAccepted, dimensions: [(MetricNames.Label.listener, listener)]).increment()
    }

    static func sessions(listener: String, delta: Int) {
        Meter(label: MetricNames.ingestSessions, dimensions: [(MetricNames.Label.listener, listener)]).increment(by: Double(delta))
    }

    /// The refusal worth watching that a reply sent by the state machine stands for, if any.
    static func refusalReason(of reply: SMTPReply) -> MetricNames.RefusalReason? {
        switch (reply.code, reply.enhancedStatus?.description) {
        case (550, "5.7.1"): .relayDenied
        case (530, _): .authRequired
        case (535, _): .authFailed
        case (552, _): .tooLarge
        case (452, "4.5.3"): .tooManyRecipients
        default: nil
        }
    }

    /// Counts a refusal worth watching, recognised from the reply sent.
    static func replied(_ reply: SMTPReply, listener: String) {
        if let reason = refusalReason(of: reply) { refused(listener: listener, reason: reason) }
    }

    static func refused(listener: String, reason: MetricNames.RefusalReason) {
        Counter(
            label: MetricNames.messagesRefused,
            dimensions: [(MetricNames.Label.listener, listener), (MetricNames.Label.reason, reason.rawValue)]
        ).increment()
    }
}
