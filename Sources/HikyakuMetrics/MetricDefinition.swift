/// The description of one metric the relay emits: see ``MetricNames/all``.
public struct MetricDefinition: Sendable, Hashable {
    /// The Prometheus metric type.
    public enum MetricType: String, Sendable, Hashable {
        /// Only goes up (swift-metrics `Counter`).
        case counter
        /// Goes up and down (swift-metrics `Meter` or `Gauge`).
        case gauge
        /// Observations in buckets (swift-metrics `Timer` for durations).
        case histogram
    }

    /// The full metric name, e.g. `hikyaku_deliveries_total`.
    public let name: String
    /// The Prometheus type.
    public let type: MetricType
    /// The label names, in the order they must be passed as dimensions.
    public let labels: [String]
    /// One line saying what is counted or measured.
    public let help: String

    public init(name: String, type: MetricType, labels: [String], help: String) {
        self.name = name
        self.type = type
        self.labels = labels
        self.help = help
    }
}
