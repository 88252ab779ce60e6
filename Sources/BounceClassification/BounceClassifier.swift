import RelayCore

/// Gives a failure reply its ``BounceClass`` and ``BounceSeverity`` under a set of
/// ``BounceRules``. A value with no I/O, shared by every delivery task of a worker.
///
/// The enhanced status code decides first (RFC 3463: its subject and detail were made for
/// this); the wording decides when there is no code, or only a generic one (`X.7.1`
/// "delivery not authorized" covers spam filters, block lists and recipient policies alike):
///
///     550 5.1.1 <a@example.com>: Recipient address rejected    → invalid_recipient, hard
///     550 5.7.1 Service unavailable, Client host [192.0.2.1]
///         blocked using Spamhaus                                → ip_reputation, hard
///     550 Unknown user a@docomo.ne.jp                           → invalid_recipient, hard
///     452 4.2.2 The email account … is over quota               → mailbox_full, soft
public struct BounceClassifier: Sendable {
    public let rules: BounceRules

    public init(rules: BounceRules) {
        self.rules = rules
    }

    /// The longest stretch of a reply that is read: every classifying word sits in the first
    /// lines, and a hostile server's megabyte reply must cost no more than a short one.
    public static let maxReplyBytes = 4096

    /// `reply`: the full SMTP reply text (`550 5.1.1 <x@y>: user unknown`), a DSN's
    /// `Diagnostic-Code` (`smtp; 550 …`), or its `Status` followed by the diagnostic.
    public func classify(reply: String) -> (BounceClass, BounceSeverity) {
        // A character cut at the limit becomes U+FFFD; nothing matches on it anyway.
        let folded = BounceText.fold(
            reply.utf8.count > Self.maxReplyBytes ? String(decoding: reply.utf8.prefix(Self.maxReplyBytes), as: UTF8.self) : reply)
        let status = ReplyStatus(folded)
        let byStatus = status.enhanced.flatMap { enhanced in rules.statusRules.first { $0.pattern.matches(enhanced) } }
        var bounceClass = byStatus?.bounceClass ?? .other
        var severity = byStatus?.severity
        if byStatus?.refine ?? true, let byText = rules.textRules.first(where: { BounceText.matches($0.parts, in: folded) }) {
            bounceClass = byText.bounceClass
            severity = byText.severity
        }
        return (bounceClass, severity ?? Self.severity(of: status))
    }

    /// `5xx` hard, `4xx` soft (RFC 5321 §4.2.1); without a reply code, the enhanced status's
    /// class (RFC 3463 §3.1: 4 persistent transient, 5 permanent); with neither, hard (a DSN
    /// reports a failure only once delivery was given up).
    static func severity(of status: ReplyStatus) -> BounceSeverity {
        if let code = status.code { return code / 100 == 4 ? .soft : .hard }
        if let enhanced = status.enhanced { return enhanced.codeClass == 4 ? .soft : .hard }
        return .hard
    }

}
