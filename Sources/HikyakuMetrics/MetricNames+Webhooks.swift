extension MetricNames {
    /// Values of ``Label/outcome`` on ``webhookRequests``.
    public enum WebhookOutcome: String, Sendable, Hashable, CaseIterable {
        /// `2xx`: the events are done.
        case delivered
        /// Another `4xx`: the events are dead letters at once.
        case refused
        /// A timeout, a connection failure, `408`, `429` or `5xx`: retried with backoff.
        case failed
    }

    /// Values of ``Label/where`` on ``webhookEventsLost``.
    public enum WebhookLoss: String, Sendable, Hashable, CaseIterable {
        /// Trimmed from the events stream (its `events.max_length` ceiling) before the
        /// dispatcher's consumer group read them.
        case stream
        /// Dropped from the head of a full outbox (`webhooks.max_outbox`).
        case outbox
        /// Dropped from the head of full dead letters (`webhooks.max_outbox`).
        case dead
    }
}
