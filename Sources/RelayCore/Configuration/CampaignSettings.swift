/// `campaigns:` — bulk newsletter campaigns (README "Campaigns") and their one-click
/// unsubscribe links (RFC 8058, RFC 2369).
///
/// ```yaml
/// campaigns:
///   unsubscribe_base_url: https://mail.example.com   # serves /u/<token> (console or API role)
///   unsubscribe_mailto_domain: bounces.example.com   # optional: mailto:u-<token>@… via the bounce listener
///   unsubscribe_token_validity: 180d
///   chunk_size: 200
///   lookahead: 5m
///   max_queued_per_site: 10000
/// ```
public struct CampaignSettings: Sendable, Codable {
    /// The public HTTPS base of the one-click unsubscribe endpoint: links are
    /// `<base>/u/<token>`. Required to send campaigns (receivers such as Gmail demand the
    /// HTTPS form, RFC 8058 section 3.1).
    public var unsubscribeBaseURL: String?
    /// When set, `List-Unsubscribe` also carries `mailto:u-<token>@<domain>` (RFC 2369); the
    /// domain's MX must be the bounce listener.
    public var unsubscribeMailtoDomain: String?
    /// How long an unsubscribe token is honoured after the message was sent. Default `180d`;
    /// at least `60d` (a reader may open an old newsletter months later).
    public var unsubscribeTokenValidity: ConfigDuration
    /// Recipients a campaign runner enqueues per step (one cursor advance). Default 200.
    public var chunkSize: Int
    /// How far ahead of a receiving site's rate a runner keeps messages queued. Default `5m`.
    public var lookahead: ConfigDuration
    /// The most campaign messages a runner lets wait for one receiving site (per pool), also
    /// for sites without a rate limit: what waits is held in Redis (a few KB each), so a
    /// million-recipient campaign to Gmail is fed at the pace it drains. Default 10,000.
    public var maxQueuedPerSite: Int

    enum CodingKeys: String, CodingKey, CaseIterable {
        case unsubscribeBaseURL = "unsubscribe_base_url", unsubscribeMailtoDomain = "unsubscribe_mailto_domain",
            unsubscribeTokenValidity = "unsubscribe_token_validity", chunkSize = "chunk_size", lookahead,
            maxQueuedPerSite = "max_queued_per_site"
    }

    public init() {
        unsubscribeTokenValidity = .days(180)
        chunkSize = 200
        lookahead = .minutes(5)
        maxQueuedPerSite = 10_000
    }

    public init(from decoder: Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init()
        unsubscribeBaseURL = try c.decodeIfPresent(String.self, forKey: .unsubscribeBaseURL) ?? unsubscribeBaseURL
        unsubscribeMailtoDomain = try c.decodeIfPresent(String.self, forKey: .unsubscribeMailtoDomain) ?? unsubscribeMailtoDomain
        unsubscribeTokenValidity =
            try c.decodeIfPresent(ConfigDuration.self, forKey: .unsubscribeTokenValidity) ?? unsubscribeTokenValidity
        chunkSize = try c.decodeIfPresent(Int.self, forKey: .chunkSize) ?? chunkSize
        lookahead = try c.decodeIfPresent(ConfigDuration.self, forKey: .lookahead) ?? lookahead
        maxQueuedPerSite = try c.decodeIfPresent(Int.self, forKey: .maxQueuedPerSite) ?? maxQueuedPerSite
    }

    func validate() throws {
        if let base = unsubscribeBaseURL {
            // RFC 8058 section 3.1: the one-click URI must be HTTPS. Plain http only on loopback (tests).
            let loopback = base.hasPrefix("http://127.") || base.hasPrefix("http://localhost")
            if !(base.hasPrefix("https://") || loopback) || base.contains(" ") || base.hasSuffix("/") {
                throw ConfigurationError(
                    key: "campaigns.unsubscribe_base_url", problem: "'\(base)' must be an https:// URL without a trailing slash")
            }
        }
        if let domain = unsubscribeMailtoDomain, domain.isEmpty || domain.contains("@") || domain.contains(" ") {
            throw ConfigurationError(key: "campaigns.unsubscribe_mailto_domain", problem: "must be a domain such as bounces.example.com")
        }
        if unsubscribeTokenValidity.milliseconds < ConfigDuration.days(60).milliseconds {
            throw ConfigurationError(key: "campaigns.unsubscribe_token_validity", problem: "must be at least 60d")
        }
        if !(1...10_000).contains(chunkSize) {
            throw ConfigurationError(key: "campaigns.chunk_size", problem: "must be 1 to 10000")
        }
        if maxQueuedPerSite < 1 {
            throw ConfigurationError(key: "campaigns.max_queued_per_site", problem: "must be at least 1")
        }
        if lookahead.milliseconds < 1_000 {
            throw ConfigurationError(key: "campaigns.lookahead", problem: "must be at least 1s")
        }
    }
}
