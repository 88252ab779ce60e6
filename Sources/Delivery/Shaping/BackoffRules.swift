import RelayCore
import SMTPProtocol

/// Adaptive backoff: which rule, if any, a remote reply triggers for a site.
///
/// The rules are `delivery.backoff_rules` in configuration order, then (unless
/// `built_in_backoff_rules: false`) ``builtIn``; the first rule that matches wins, so
/// more specific rules come first. Matching is described on ``BackoffRuleMatcher``
/// (code or class, enhanced-code prefix, case-insensitive text pattern, sites). Text
/// patterns are compiled once, here.
///
/// ```
/// S: 421-4.7.28 Gmail has detected an unusual rate of unsolicited mail originating
/// S: 421 4.7.28 from your IP address. … has been temporarily rate limited.
///    → rule gmail-unusual-rate: slow the (IP, gmail) rate by 0.5 for 30m
/// ```
public struct BackoffRules: Sendable {
    private let matchers: [BackoffRuleMatcher]

    public init(settings: DeliverySettings) {
        self.init(rules: settings.backoffRules + (settings.builtInBackoffRules ? BackoffRules.builtIn : []))
    }

    /// Exactly these rules, in this order.
    public init(rules: [BackoffRuleSettings]) {
        matchers = rules.map(BackoffRuleMatcher.init)
    }

    /// The rules in the order they are tried.
    public var rules: [BackoffRuleSettings] {
        matchers.map(\.rule)
    }

    /// The first rule matching the reply for this site, if any.
    public func match(_ reply: SMTPReply, site: SiteName) -> BackoffRuleSettings? {
        guard reply.code >= 400 else { return nil }
        let text = reply.text
        return matchers.first { $0.matches(reply, text: text, site: site) }?.rule
    }
}
