/// Why a recipient's delivery failed, in the coarse terms a sender acts on. Every
/// `deferred`, `bounced` and `expired` event carries one (`bounce_class`), decided from the
/// reply's enhanced status code (RFC 3463) first and its wording second (module
/// `BounceClassification`, README "Bounce classification").
public enum BounceClass: String, Codable, CaseIterable, Sendable {
    /// The address does not exist or cannot receive mail (`5.1.1` user unknown, `5.1.2`
    /// no such domain, `5.1.10` null MX, a disabled account). The only class whose hard
    /// bounces say something about the address itself: these are suppressed.
    case invalidRecipient = "invalid_recipient"
    /// The mailbox is over its quota (`X.2.2`). Usually temporary, whatever the code says.
    case mailboxFull = "mailbox_full"
    /// The message is larger than the receiver accepts (`X.3.4`, `X.2.3`).
    case messageTooLarge = "message_too_large"
    /// The receiver's filter refused the message as spam or for its content (`X.7.1` with
    /// wording such as "likely unsolicited mail", a virus, a URL on a block list).
    case contentBlock = "content_block"
    /// The sender failed the receiver's authentication checks: SPF, DKIM, DMARC, reverse DNS
    /// (`X.7.20`–`X.7.27`, RFC 7372; Gmail's "Unauthenticated email … DMARC").
    case policyAuthentication = "policy_authentication"
    /// The sending IP (or its network) is on a block list or has a poor reputation
    /// (Spamhaus, Microsoft's S3150, Yahoo's `[BL21]`, Gmail's "unusual rate"). The
    /// recipient's address is not at fault: never suppressed.
    case ipReputation = "ip_reputation"
    /// The receiver limits how fast it accepts mail from this sender (`X.4.5`, Gmail's
    /// "receiving mail at a rate", Yahoo's `[TSS04]`, too many connections).
    case throttled
    /// The destination's DNS could not be resolved or gave no usable route (`X.4.3`,
    /// `X.4.4`, a failed MX lookup).
    case dnsFailure = "dns_failure"
    /// Delivery needs TLS that could not be had: the destination's MTA-STS or DANE policy
    /// was not met, or the receiver demands encryption (`X.7.10`, `X.7.11`, `X.7.30`,
    /// `X.7.5` from the relay's own TLS policy failures).
    case tlsRequired = "tls_required"
    /// Anything else: protocol errors, a lost connection, an unclassified refusal.
    case other
}

/// Whether a failure says the address is dead (`hard`) or may pass later (`soft`): the
/// event's `bounce_type`. By default a `5xx` reply is hard and a `4xx` one soft; a rule may
/// say otherwise (a full mailbox is soft even when answered `552 5.2.2`).
public enum BounceSeverity: String, Codable, CaseIterable, Sendable {
    /// Temporary, or permanent in code but not about the address (a full mailbox, a rate
    /// limit): retrying later, or another day, may succeed.
    case soft
    /// Permanent: sending the same message again will fail the same way.
    case hard
}
