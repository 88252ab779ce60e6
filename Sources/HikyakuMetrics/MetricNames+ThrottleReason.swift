extension MetricNames {
    /// Values of ``Label/reason`` on ``throttleWaits``: which limit made a unit wait.
    public enum ThrottleReason: String, Sendable, Hashable, CaseIterable {
        /// The per-(egress IP, site) message rate.
        case rateIP = "rate_ip"
        /// The per-site message rate, across all egress IPs.
        case rateSite = "rate_site"
        /// The per-(egress IP, site) connection limit (no lease free).
        case connections
        /// The site is suspended by a backoff rule.
        case suspended
        /// The egress IP's warm-up cap for today is reached.
        case warmup
    }
}
