extension MetricNames {
    /// Values of ``Label/outcome`` on ``deliveries`` and ``deliveryLatency``.
    ///
    /// ``deliveryLatency`` only observes final outcomes (every case but ``deferred``).
    public enum DeliveryOutcome: String, Sendable, Hashable, CaseIterable {
        /// The receiving MX accepted the recipient (`250`).
        case delivered
        /// A transient failure (`4xx`, connection trouble); the recipient will be retried.
        case deferred
        /// A permanent failure (`5xx`); the recipient is final.
        case bounced
        /// The recipient stayed deferred past its queue lifetime; final.
        case expired
    }
}
