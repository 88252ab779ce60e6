extension MetricNames {
    /// Label (dimension) names used by the metrics in ``MetricNames``.
    public enum Label {
        /// The ingest listener's configured name (`relay`, `submission`, …).
        public static let listener = "listener"
        /// Why something was refused or had to wait: a ``RefusalReason`` or ``ThrottleReason``.
        public static let reason = "reason"
        /// A ``DeliveryOutcome``.
        public static let outcome = "outcome"
        /// The receiving site (MX rollup, e.g. `google`), never a recipient address.
        public static let site = "site"
        /// The backoff rule's action (e.g. `slow_down`, `suspend`, `resume`).
        public static let action = "action"
        /// The local source IP of outbound connections.
        public static let egressIP = "egress_ip"
        /// The egress pool (shared or dedicated IP pool).
        public static let pool = "pool"
        /// Where webhook events were lost: a ``WebhookLoss``.
        public static let `where` = "where"
        /// A failure's bounce class (`invalid_recipient`, `throttled`, …).
        public static let bounceClass = "class"
        /// What an inbound message to the bounce listener was (`dsn`, `complaint`, …).
        public static let kind = "kind"
        /// `soft` or `hard`.
        public static let bounceType = "type"
    }
}
