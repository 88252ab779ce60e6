import Metrics
import Queue
import RelayCore

/// The delivery side's metrics (swift-metrics; exported by `/metrics` when the executable
/// bootstraps Prometheus, no-ops otherwise). Names follow `MetricNames` in HikyakuMetrics.
enum DeliveryMetrics {
    static func recordOutcome(_ kind: DeliveryEvent.Kind, site: SiteName, acceptedAt: Int64, now: Int64) {
        Counter(label: "hikyaku_deliveries_total", dimensions: [("outcome", kind.rawValue), ("site", site.rawValue)]).increment()
        if kind.isFinal, acceptedAt > 0 {
            Timer(label: "hikyaku_delivery_latency_seconds", dimensions: [("outcome", kind.rawValue)], preferredDisplayUnit: .seconds)
                .recordMilliseconds(max(0, now - acceptedAt))
        }
    }

    /// `hikyaku_bounces_total{class,type}`: one per failed recipient attempt.
    static func recordBounce(_ bounceClass: BounceClass, _ type: BounceSeverity) {
        Counter(label: "hikyaku_bounces_total", dimensions: [("class", bounceClass.rawValue), ("type", type.rawValue)]).increment()
    }

    static func throttleWait(site: SiteName, reason: ClaimWaitReason) {
        Counter(label: "hikyaku_throttle_waits_total", dimensions: [("site", site.rawValue), ("reason", reason.rawValue)]).increment()
    }

    static func backoffAction(site: SiteName, action: String) {
        Counter(label: "hikyaku_backoff_actions_total", dimensions: [("site", site.rawValue), ("action", action)]).increment()
    }

    static func takeover(count: Int) {
        Counter(label: "hikyaku_claim_duplicates_total").increment(by: count)
    }

    static func queueDepth(pool: PoolName, recipients: Int) {
        Gauge(label: "hikyaku_queue_depth", dimensions: [("pool", pool.rawValue)]).record(recipients)
    }

    static func connections(_ unit: DeliveryUnit, delta: Int) {
        Meter(label: "hikyaku_outbound_connections", dimensions: [("egress_ip", unit.egress.rawValue), ("site", unit.site.rawValue)])
            .increment(by: Double(delta))
    }
}
