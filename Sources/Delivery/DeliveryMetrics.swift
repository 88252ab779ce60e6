import Metrics
import RelayCore

/// The delivery side's metrics (swift-metrics; exported by `/metrics` when the executable
/// bootstraps Prometheus, no-ops otherwise). Names follow `MetricNames` in HikyakuMetrics.
enum DeliveryMetrics {
    static func recordOutcome(_ kind: DeliveryEvent.Kind, site: String, acceptedAt: Int64, now: Int64) {
        Counter(label: "hikyaku_deliveries_total", dimensions: [("outcome", kind.rawValue), ("site", site)]).increment()
        if kind.isFinal, acceptedAt > 0 {
            Timer(label: "hikyaku_delivery_latency_seconds", dimensions: [("outcome", kind.rawValue)], preferredDisplayUnit: .seconds)
                .recordMilliseconds(max(0, now - acceptedAt))
        }
    }

    static func throttleWait(site: String, reason: String) {
        Counter(label: "hikyaku_throttle_waits_total", dimensions: [("site", site), ("reason", reason)]).increment()
    }

    static func backoffAction(site: String, action: String) {
        Counter(label: "hikyaku_backoff_actions_total", dimensions: [("site", site), ("action", action)]).increment()
    }

    static func takeover(count: Int) {
        Counter(label: "hikyaku_claim_duplicates_total").increment(by: count)
    }

    static func queueDepth(pool: String, recipients: Int) {
        Gauge(label: "hikyaku_queue_depth", dimensions: [("pool", pool)]).record(recipients)
    }

    static func connections(ip: String, site: String, delta: Int) {
        Meter(label: "hikyaku_outbound_connections", dimensions: [("egress_ip", ip), ("site", site)]).increment(by: Double(delta))
    }
}
