import RelayCore

/// The receiving site a destination belongs to, with its shaping fully layered
/// (site → preset → `delivery.default_shaping` → ``ShapingSettings/builtIn``).
///
/// Every limit that has a built-in default is set (`maxConnectionsPerIP`,
/// `maxMessagesPerConnection`, `tlsRequired`); a rate that is still `nil` after layering
/// means "no limit" (the built-in defaults set no rates).
///
/// Names never contain `|` (it separates the parts of Redis keys such as
/// `gcra:ip:<ip>|<site>`). They take one of these forms:
/// - a configured site or a preset: `gmail`, `newsletter-partner`;
/// - `mx:<registrable domain of the primary MX>` when no pattern matched: `mx:example.net`;
/// - `domain:<domain>` for a domain without MX records (implicit MX, RFC 5321 §5.1);
/// - `route:<host>` for a domain sent to a static route.
public struct ResolvedSite: Sendable, Hashable {
    public var name: SiteName
    public var shaping: ShapingSettings

    public init(name: SiteName, shaping: ShapingSettings) {
        self.name = name
        self.shaping = shaping.over(.builtIn)
    }

    /// Concurrent connections from one egress IP to this site.
    public var maxConnectionsPerIP: Int {
        shaping.maxConnectionsPerIP ?? ShapingSettings.builtIn.maxConnectionsPerIP ?? 1
    }

    /// Messages sent over one connection before it is closed.
    public var maxMessagesPerConnection: Int {
        shaping.maxMessagesPerConnection ?? ShapingSettings.builtIn.maxMessagesPerConnection ?? 1
    }

    /// Whether delivery to this site must use TLS (defer instead of sending in clear).
    public var tlsRequired: Bool {
        shaping.tlsRequired ?? false
    }

    /// Whether the next message's envelope goes out with a message's content (RFC 2920 §3.1).
    public var pipelinesNextMessage: Bool {
        shaping.pipelineNextMessage ?? true
    }

    /// The message rate limit per (egress IP, site), if any.
    public var ratePerIP: GCRA? {
        shaping.ratePerIP.map(GCRA.init(rate:))
    }

    /// The message rate limit for the whole site (all IPs together), if any.
    public var rate: GCRA? {
        shaping.rate.map(GCRA.init(rate:))
    }

    /// The new-connection rate limit per (egress IP, site), if any.
    public var connectionRatePerIP: GCRA? {
        shaping.connectionRatePerIP.map(GCRA.init(rate:))
    }
}
