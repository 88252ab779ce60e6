import HikyakuMetrics
import Metrics
import Prometheus
import Testing

/// `HikyakuMetrics.makeFactory` is what `bootstrap()` installs; tested on a private registry.
struct MetricsFactoryTests {
    let registry = PrometheusCollectorRegistry()

    private func exposition() -> [String] {
        registry.emitToString().split(separator: "\n").map(String.init)
    }

    @Test func deliveryLatencyUsesBucketsUpToFiveDays() {
        let factory = HikyakuMetrics.makeFactory(registry: registry)
        let outcome = (MetricNames.Label.outcome, MetricNames.DeliveryOutcome.delivered.rawValue)
        Metrics.Timer(label: MetricNames.deliveryLatency, dimensions: [outcome], factory: factory)
            .record(.seconds(2 * 3600))
        let lines = exposition()
        #expect(lines.contains("# TYPE hikyaku_delivery_latency_seconds histogram"))
        // Two hours falls in the 4 h bucket, not the 1 h one.
        #expect(lines.contains(#"hikyaku_delivery_latency_seconds_bucket{outcome="delivered",le="3600.0"} 0"#))
        #expect(lines.contains(#"hikyaku_delivery_latency_seconds_bucket{outcome="delivered",le="14400.0"} 1"#))
        #expect(lines.contains(#"hikyaku_delivery_latency_seconds_bucket{outcome="delivered",le="432000.0"} 1"#))
        #expect(lines.contains(#"hikyaku_delivery_latency_seconds_sum{outcome="delivered"} 7200.0"#))
    }

    @Test func otherTimersKeepTheDefaultBuckets() {
        let factory = HikyakuMetrics.makeFactory(registry: registry)
        Metrics.Timer(label: "hikyaku_other_seconds", factory: factory).record(.milliseconds(7))
        let lines = exposition()
        #expect(lines.contains(#"hikyaku_other_seconds_bucket{le="0.005"} 0"#))
        #expect(lines.contains(#"hikyaku_other_seconds_bucket{le="0.01"} 1"#))
    }

    @Test func bucketsAreIncreasing() {
        for buckets in [HikyakuMetrics.deliveryLatencyBuckets] {
            #expect(zip(buckets, buckets.dropFirst()).allSatisfy { $0 < $1 })
        }
    }
}
