import Metrics
import Prometheus

/// Entry points for wiring swift-metrics to Prometheus.
///
/// Libraries (Ingest, Delivery, Queue, …) only ever use the swift-metrics API
/// (`Counter`, `Meter`, `Timer`, …) with the names in ``MetricNames``; they never
/// bootstrap anything. Only the `hikyaku` executable calls ``bootstrap()``, once, and
/// hands the returned registry to a ``MetricsServer``.
public enum HikyakuMetrics {
    /// Creates a Prometheus registry and makes it the process-wide swift-metrics backend.
    ///
    /// Call this once, from the executable, before any metric is created: swift-metrics'
    /// `MetricsSystem.bootstrap` traps if it is called a second time in one process, and
    /// metrics created before it go to the no-op backend. Tests must not call this; they
    /// create metrics against ``makeFactory(registry:)`` instead.
    ///
    /// - Returns: the registry to serve on `/metrics`.
    public static func bootstrap() -> PrometheusCollectorRegistry {
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(makeFactory(registry: registry))
        return registry
    }

    /// A metrics factory writing into `registry`, with histogram buckets suited to a mail relay.
    ///
    /// swift-prometheus' default timer buckets stop at 10 s. That does not fit
    /// ``MetricNames/deliveryLatency`` (a deferred recipient takes minutes to days), so it
    /// gets its own buckets: ``deliveryLatencyBuckets``.
    public static func makeFactory(registry: PrometheusCollectorRegistry) -> PrometheusMetricsFactory {
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.durationHistogramBuckets[MetricNames.deliveryLatency] = deliveryLatencyBuckets
        return factory
    }

    /// Buckets of ``MetricNames/deliveryLatency``: 1 s to 5 days (the usual queue lifetime).
    public static let deliveryLatencyBuckets: [Duration] = [
        .seconds(1), .seconds(5), .seconds(10), .seconds(30), .seconds(60),
        .seconds(300), .seconds(900), .seconds(3600), .seconds(4 * 3600),
        .seconds(24 * 3600), .seconds(5 * 24 * 3600),
    ]
}
