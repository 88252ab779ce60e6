import HikyakuMetrics
import Metrics
import RelayCore

/// The bounce listener's metrics (``MetricNames``).
enum BounceMetrics {
    /// An accepted inbound message, by what it turned out to be.
    static func received(_ kind: String) {
        Counter(label: MetricNames.inboundReports, dimensions: [(MetricNames.Label.kind, kind)]).increment()
    }

    static func refused(_ refusal: InboundRecipient.Refusal) {
        let reason = refusal == .invalidToken ? "invalid_token" : "unknown_recipient"
        Counter(label: MetricNames.inboundRefused, dimensions: [(MetricNames.Label.reason, reason)]).increment()
    }

    /// A report about a message the relay no longer knows (or whose token names another account).
    static func unresolved() {
        Counter(label: MetricNames.inboundReports, dimensions: [(MetricNames.Label.kind, "unresolved")]).increment()
    }

    static func asyncBounce(_ bounceClass: BounceClass, _ severity: BounceSeverity) {
        Counter(
            label: MetricNames.bounces,
            dimensions: [(MetricNames.Label.bounceClass, bounceClass.rawValue), (MetricNames.Label.bounceType, severity.rawValue)]
        ).increment()
    }

    /// A message to an unsubscribe address that added the suppression.
    static func unsubscribed() {
        Counter(label: MetricNames.unsubscribes, dimensions: [(MetricNames.Label.kind, "mailto")]).increment()
    }

    static func complaint() {
        Counter(label: MetricNames.complaints, dimensions: []).increment()
    }
}
