import HikyakuMetrics
import Metrics

/// The dispatcher's metrics (``MetricNames/webhookRequests``, ``MetricNames/webhookEventsLost``).
enum WebhookMetrics {
    static func request(_ outcome: MetricNames.WebhookOutcome) {
        Counter(label: MetricNames.webhookRequests, dimensions: [(MetricNames.Label.outcome, outcome.rawValue)]).increment()
    }

    static func lost(_ count: Int, where loss: MetricNames.WebhookLoss) {
        Counter(label: MetricNames.webhookEventsLost, dimensions: [(MetricNames.Label.where, loss.rawValue)]).increment(by: count)
    }
}
