import HikyakuMetrics
import Testing

/// The names follow the Prometheus naming conventions, so dashboards and alerts can rely on them.
struct MetricNamesTests {
    private static func isSnakeCase(_ text: String) -> Bool {
        !text.isEmpty && text.first!.isLetter
            && text.allSatisfy { ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "_" }
    }

    @Test func catalogueListsEachNameOnce() {
        let names = MetricNames.all.map(\.name)
        #expect(Set(names).count == names.count)
        #expect(names.count == 20)
        #expect(names.contains(MetricNames.claimDuplicates))
        #expect(names.contains(MetricNames.queueDepth))
    }

    @Test(arguments: MetricNames.all)
    func followsPrometheusConventions(metric: MetricDefinition) {
        #expect(metric.name.hasPrefix("hikyaku_"))
        #expect(Self.isSnakeCase(metric.name))
        #expect(metric.name.hasSuffix("_total") == (metric.type == .counter))
        if metric.type == .histogram {
            #expect(metric.name.hasSuffix("_seconds"))
        }
        #expect(metric.labels.allSatisfy(Self.isSnakeCase))
        #expect(Set(metric.labels).count == metric.labels.count)
        #expect(!metric.help.isEmpty)
    }

    @Test func documentedLabels() {
        let labels = Dictionary(uniqueKeysWithValues: MetricNames.all.map { ($0.name, $0.labels) })
        #expect(labels["hikyaku_messages_accepted_total"] == ["listener"])
        #expect(labels["hikyaku_messages_refused_total"] == ["listener", "reason"])
        #expect(labels["hikyaku_deliveries_total"] == ["outcome", "site"])
        #expect(labels["hikyaku_delivery_latency_seconds"] == ["outcome"])
        #expect(labels["hikyaku_throttle_waits_total"] == ["site", "reason"])
        #expect(labels["hikyaku_backoff_actions_total"] == ["site", "action"])
        #expect(labels["hikyaku_outbound_connections"] == ["egress_ip", "site"])
        #expect(labels["hikyaku_ingest_sessions"] == ["listener"])
        #expect(labels["hikyaku_queue_depth"] == ["pool"])
        #expect(labels["hikyaku_claim_duplicates_total"] == [])
        #expect(labels["hikyaku_webhook_requests_total"] == ["outcome"])
        #expect(labels["hikyaku_webhook_events_lost_total"] == ["where"])
        #expect(labels["hikyaku_bounces_total"] == ["class", "type"])
        #expect(labels["hikyaku_inbound_reports_total"] == ["kind"])
        #expect(labels["hikyaku_inbound_refused_total"] == ["reason"])
    }

    @Test func labelValuesAreSnakeCase() {
        let values =
            MetricNames.RefusalReason.allCases.map(\.rawValue)
            + MetricNames.DeliveryOutcome.allCases.map(\.rawValue)
            + MetricNames.ThrottleReason.allCases.map(\.rawValue)
            + MetricNames.WebhookOutcome.allCases.map(\.rawValue) + MetricNames.WebhookLoss.allCases.map(\.rawValue)
        #expect(values.allSatisfy(Self.isSnakeCase))
        #expect(MetricNames.RefusalReason.relayDenied.rawValue == "relay_denied")
        #expect(MetricNames.ThrottleReason.rateIP.rawValue == "rate_ip")
        #expect(MetricNames.DeliveryOutcome.allCases.map(\.rawValue) == ["delivered", "deferred", "bounced", "expired"])
    }
}
