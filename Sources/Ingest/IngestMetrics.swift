import Metrics
import SMTPProtocol

/// The ingest side's metrics (names and label order as in HikyakuMetrics' `MetricNames`).
enum IngestMetrics {
    static func accepted(listener: String) {
        Counter(label: "hikyaku_messages_accepted_total", dimensions: [("listener", listener)]).increment()
    }

    static func sessions(listener: String, delta: Int) {
        Meter(label: "hikyaku_ingest_sessions", dimensions: [("listener", listener)]).increment(by: Double(delta))
    }

    /// Counts a refusal worth watching, recognised from the reply sent.
    static func replied(_ reply: SMTPReply, listener: String) {
        let reason: String
        switch (reply.code, reply.enhancedStatus?.description) {
        case (550, "5.7.1"): reason = "relay_denied"
        case (530, _): reason = "auth_required"
        case (535, _): reason = "auth_failed"
        case (552, _): reason = "too_large"
        case (452, "4.5.3"): reason = "too_many_recipients"
        default: return
        }
        refused(listener: listener, reason: reason)
    }

    static func refused(listener: String, reason: String) {
        Counter(label: "hikyaku_messages_refused_total", dimensions: [("listener", listener), ("reason", reason)]).increment()
    }
}
