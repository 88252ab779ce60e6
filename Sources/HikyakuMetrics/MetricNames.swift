/// The metric names the relay emits, with their label names.
///
/// Every name follows the Prometheus conventions: `hikyaku_` prefix, snake case, base
/// units (seconds), counters end in `_total`. Create metrics with the swift-metrics API:
///
/// ```swift
/// Counter(label: MetricNames.messagesAccepted,
///         dimensions: [(MetricNames.Label.listener, listener.name)]).increment()
/// Timer(label: MetricNames.deliveryLatency,
///       dimensions: [(MetricNames.Label.outcome, "delivered")]).recordNanoseconds(elapsed)
/// ```
///
/// Rules the Prometheus backend enforces or relies on:
/// - Pass the label names documented for a metric, every time, **in the documented order**
///   (the registry keys series by the ordered label list; another order makes a second,
///   duplicate series).
/// - A metric documented without labels must never be given any, and a labelled one never
///   none: the registry traps when one name mixes labelled and unlabelled series.
/// - Gauges: use `Meter` (`increment()` / `decrement()` / `set(_:)`) or `Gauge`;
///   histograms of durations: `Timer`.
///
/// ``all`` lists every metric with its type and labels, for documentation and tests.
public enum MetricNames {
    /// Messages accepted (answered `250` after DATA/BDAT) by a listener. Counter.
    /// Labels: ``Label/listener``.
    public static let messagesAccepted = "hikyaku_messages_accepted_total"

    /// Messages or transactions refused by a listener. Counter.
    /// Labels: ``Label/listener``, ``Label/reason`` (a ``RefusalReason``).
    public static let messagesRefused = "hikyaku_messages_refused_total"

    /// Final and intermediate outcomes of delivery attempts, one per recipient. Counter.
    /// Labels: ``Label/outcome`` (a ``DeliveryOutcome``), ``Label/site``.
    public static let deliveries = "hikyaku_deliveries_total"

    /// Time from acceptance to a recipient's final outcome. Histogram (a `Timer`; buckets
    /// ``HikyakuMetrics/deliveryLatencyBuckets``). Labels: ``Label/outcome``.
    public static let deliveryLatency = "hikyaku_delivery_latency_seconds"

    /// Times a delivery unit had to wait for a limit. Counter.
    /// Labels: ``Label/site``, ``Label/reason`` (a ``ThrottleReason``).
    public static let throttleWaits = "hikyaku_throttle_waits_total"

    /// Backoff rules applied to a site after its replies (e.g. `slow_down`, `suspend`).
    /// Counter. Labels: ``Label/site``, ``Label/action``.
    public static let backoffActions = "hikyaku_backoff_actions_total"

    /// Open outbound SMTP connections. Gauge. Labels: ``Label/egressIP``, ``Label/site``.
    public static let outboundConnections = "hikyaku_outbound_connections"

    /// Open inbound SMTP sessions. Gauge. Labels: ``Label/listener``.
    public static let ingestSessions = "hikyaku_ingest_sessions"

    /// Recipients not yet in a final state, as read from Redis. Gauge. Labels: ``Label/pool``.
    public static let queueDepth = "hikyaku_queue_depth"

    /// Failed delivery attempts by why they failed, one per recipient and attempt (every
    /// `deferred`, `bounced` and `expired` event). Counter. Labels: ``Label/bounceClass``
    /// (a `BounceClass` raw value), ``Label/bounceType`` (`soft` or `hard`).
    public static let bounces = "hikyaku_bounces_total"

    /// Messages the bounce listener accepted, by what they turned out to be (`dsn`, `delay`,
    /// `complaint`, `auto_reply`, `unrecognized`; `unresolved`: about a message the relay
    /// no longer knows). Counter. Labels: ``Label/kind``.
    public static let inboundReports = "hikyaku_inbound_reports_total"

    /// Recipients the bounce listener refused at RCPT (`invalid_token`,
    /// `unknown_recipient`). Counter. Labels: ``Label/reason``.
    public static let inboundRefused = "hikyaku_inbound_refused_total"

    /// Spam complaints recorded from feedback reports. Counter.
    public static let complaints = "hikyaku_complaints_total"

    /// Recipients who unsubscribed (a one-click POST or a message to the mailto address that
    /// added the suppression; repeats are not counted). Counter. Labels: ``Label/kind``
    /// (`link` or `mailto`).
    public static let unsubscribes = "hikyaku_unsubscribes_total"

    /// Work items delivered again after their claim was taken over from a worker presumed
    /// dead (at-least-once duplicates). Counter. No labels.
    public static let claimDuplicates = "hikyaku_claim_duplicates_total"

    /// Webhook POSTs by how they ended (one per batch of up to 100 events). Counter.
    /// Labels: ``Label/outcome`` (a ``WebhookOutcome``).
    public static let webhookRequests = "hikyaku_webhook_requests_total"

    /// Webhook events that will not be delivered: trimmed from the events stream before the
    /// dispatcher read them, or dropped by an outbox's or the dead letters' bound. Counter.
    /// Labels: ``Label/where`` (a ``WebhookLoss``).
    public static let webhookEventsLost = "hikyaku_webhook_events_lost_total"

    /// Every metric above, with its type and label names in the order to pass them.
    public static let all: [MetricDefinition] = [
        MetricDefinition(
            name: messagesAccepted, type: .counter, labels: [Label.listener],
            help: "Messages accepted by an ingest listener."),
        MetricDefinition(
            name: messagesRefused, type: .counter, labels: [Label.listener, Label.reason],
            help: "Messages or transactions refused by an ingest listener."),
        MetricDefinition(
            name: deliveries, type: .counter, labels: [Label.outcome, Label.site],
            help: "Delivery attempt outcomes per recipient."),
        MetricDefinition(
            name: deliveryLatency, type: .histogram, labels: [Label.outcome],
            help: "Time from acceptance to a recipient's final outcome."),
        MetricDefinition(
            name: throttleWaits, type: .counter, labels: [Label.site, Label.reason],
            help: "Waits imposed by rate, connection, suspension or warm-up limits."),
        MetricDefinition(
            name: backoffActions, type: .counter, labels: [Label.site, Label.action],
            help: "Backoff rules applied to a receiving site."),
        MetricDefinition(
            name: outboundConnections, type: .gauge, labels: [Label.egressIP, Label.site],
            help: "Open outbound SMTP connections."),
        MetricDefinition(
            name: ingestSessions, type: .gauge, labels: [Label.listener],
            help: "Open inbound SMTP sessions."),
        MetricDefinition(
            name: queueDepth, type: .gauge, labels: [Label.pool],
            help: "Recipients not yet in a final state."),
        MetricDefinition(
            name: bounces, type: .counter, labels: [Label.bounceClass, Label.bounceType],
            help: "Failed delivery attempts per recipient by bounce class and soft/hard."),
        MetricDefinition(
            name: inboundReports, type: .counter, labels: [Label.kind],
            help: "Messages accepted by the bounce listener, by kind (dsn, delay, complaint, auto_reply, unrecognized, unresolved)."),
        MetricDefinition(
            name: inboundRefused, type: .counter, labels: [Label.reason],
            help: "Recipients refused by the bounce listener (invalid_token, unknown_recipient)."),
        MetricDefinition(
            name: complaints, type: .counter, labels: [],
            help: "Spam complaints recorded from feedback reports."),
        MetricDefinition(
            name: claimDuplicates, type: .counter, labels: [],
            help: "Work items delivered again after a claim takeover."),
        MetricDefinition(
            name: webhookRequests, type: .counter, labels: [Label.outcome],
            help: "Webhook POSTs by outcome: delivered (2xx), refused (other 4xx, dead letters), failed (retried)."),
        MetricDefinition(
            name: webhookEventsLost, type: .counter, labels: [Label.where],
            help: "Webhook events lost to the events stream's ceiling or to an outbox's or dead letters' bound."),
    ]
}
