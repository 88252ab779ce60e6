/// How fast and how wide the relay may send to one receiving site. Every field is
/// optional so settings can be layered: a site's own values, then its preset's, then
/// `delivery.default_shaping`, then the built-in defaults (`ShapingSettings.builtIn`).
public struct ShapingSettings: Sendable, Codable, Hashable {
    /// Concurrent connections from one egress IP to the site (leases, cluster-wide).
    public var maxConnectionsPerIP: Int?
    /// Messages sent over one connection before it is closed.
    public var maxMessagesPerConnection: Int?
    /// Message rate from one egress IP to the site (cluster-wide GCRA).
    public var ratePerIP: Rate?
    /// Message rate to the site from all IPs together.
    public var rate: Rate?
    /// New connections per egress IP to the site.
    public var connectionRatePerIP: Rate?
    /// Refuse to deliver to the site without TLS (defer instead).
    public var tlsRequired: Bool?
    /// Send the next message's envelope in the same write as a message's content (RFC 2920
    /// §3.1), when the site offers PIPELINING: one round trip per message instead of two.
    /// `false` for a receiver that mishandles it (default true).
    public var pipelineNextMessage: Bool?

    enum CodingKeys: String, CodingKey, CaseIterable {
        case maxConnectionsPerIP = "max_connections_per_ip", maxMessagesPerConnection = "max_messages_per_connection"
        case ratePerIP = "rate_per_ip", rate, connectionRatePerIP = "connection_rate_per_ip", tlsRequired = "tls_required"
        case pipelineNextMessage = "pipeline_next_message"
    }

    public init(
        maxConnectionsPerIP: Int? = nil, maxMessagesPerConnection: Int? = nil, ratePerIP: Rate? = nil,
        rate: Rate? = nil, connectionRatePerIP: Rate? = nil, tlsRequired: Bool? = nil, pipelineNextMessage: Bool? = nil
    ) {
        self.maxConnectionsPerIP = maxConnectionsPerIP
        self.maxMessagesPerConnection = maxMessagesPerConnection
        self.ratePerIP = ratePerIP
        self.rate = rate
        self.connectionRatePerIP = connectionRatePerIP
        self.tlsRequired = tlsRequired
        self.pipelineNextMessage = pipelineNextMessage
    }

    /// Without any configuration: 10 connections per IP and site, 100 messages per
    /// connection, no rate limits, TLS opportunistic, the next envelope pipelined.
    public static let builtIn = ShapingSettings(
        maxConnectionsPerIP: 10, maxMessagesPerConnection: 100, tlsRequired: false, pipelineNextMessage: true)

    public init(from decoder: Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        try self.init(decoding: decoder.container(keyedBy: CodingKeys.self))
    }

    init(decoding c: KeyedDecodingContainer<CodingKeys>) throws {
        maxConnectionsPerIP = try c.decodeIfPresent(Int.self, forKey: .maxConnectionsPerIP)
        maxMessagesPerConnection = try c.decodeIfPresent(Int.self, forKey: .maxMessagesPerConnection)
        ratePerIP = try c.decodeIfPresent(Rate.self, forKey: .ratePerIP)
        rate = try c.decodeIfPresent(Rate.self, forKey: .rate)
        connectionRatePerIP = try c.decodeIfPresent(Rate.self, forKey: .connectionRatePerIP)
        tlsRequired = try c.decodeIfPresent(Bool.self, forKey: .tlsRequired)
        pipelineNextMessage = try c.decodeIfPresent(Bool.self, forKey: .pipelineNextMessage)
    }

    /// These settings with gaps filled from `fallback`.
    public func over(_ fallback: ShapingSettings) -> ShapingSettings {
        ShapingSettings(
            maxConnectionsPerIP: maxConnectionsPerIP ?? fallback.maxConnectionsPerIP,
            maxMessagesPerConnection: maxMessagesPerConnection ?? fallback.maxMessagesPerConnection,
            ratePerIP: ratePerIP ?? fallback.ratePerIP, rate: rate ?? fallback.rate,
            connectionRatePerIP: connectionRatePerIP ?? fallback.connectionRatePerIP,
            tlsRequired: tlsRequired ?? fallback.tlsRequired,
            pipelineNextMessage: pipelineNextMessage ?? fallback.pipelineNextMessage)
    }

    func validate(key: String) throws {
        if let n = maxConnectionsPerIP, n < 1 {
            throw ConfigurationError(key: "\(key).max_connections_per_ip", problem: "must be at least 1")
        }
        if let n = maxMessagesPerConnection, n < 1 {
            throw ConfigurationError(key: "\(key).max_messages_per_connection", problem: "must be at least 1")
        }
    }
}

/// `delivery.sites[]` — a receiving site: the domains whose MX hosts match `mx` share
/// its limits (MX rollup: every Google-hosted domain is one site).
public struct SiteSettings: Sendable, Codable, Hashable {
    public var name: String
    /// MX host patterns: `*.google.com` matches any host under google.com; without `*`
    /// the host must be equal. Case-insensitive.
    public var mx: [String]
    /// A built-in preset to start from (`hikyaku presets` lists them): its MX patterns and
    /// shaping apply unless given here.
    public var preset: String?
    public var shaping: ShapingSettings

    enum CodingKeys: String, CodingKey, CaseIterable { case name, mx, preset }

    public init(name: String, mx: [String], preset: String? = nil, shaping: ShapingSettings = .init()) {
        self.name = name
        self.mx = mx
        self.preset = preset
        self.shaping = shaping
    }

    public init(from decoder: Decoder) throws {
        let allowed = Set(CodingKeys.allCases.map(\.stringValue) + ShapingSettings.CodingKeys.allCases.map(\.stringValue))
        let any = try decoder.container(keyedBy: AnyCodingKey.self)
        for key in any.allKeys where !allowed.contains(key.stringValue) {
            throw ConfigurationError(
                key: ConfigurationError.path(decoder.codingPath + [key]),
                problem: "unknown key (known keys here: \(allowed.sorted().joined(separator: ", ")))")
        }
        let c = try decoder.container(keyedBy: CodingKeys.self)
        name = try c.decode(String.self, forKey: .name)
        mx = try c.decodeIfPresent([String].self, forKey: .mx) ?? []
        preset = try c.decodeIfPresent(String.self, forKey: .preset)
        shaping = try ShapingSettings(decoding: decoder.container(keyedBy: ShapingSettings.CodingKeys.self))
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(name, forKey: .name)
        try c.encode(mx, forKey: .mx)
        try c.encodeIfPresent(preset, forKey: .preset)
        try shaping.encode(to: encoder)
    }

    func validate(key: String) throws {
        if name.isEmpty || name.contains(where: { $0 == " " || $0 == ":" || $0 == "|" }) {
            throw ConfigurationError(key: "\(key).name", problem: "'\(name)' must be a non-empty name without spaces, ':' or '|'")
        }
        if mx.isEmpty && preset == nil {
            throw ConfigurationError(key: "\(key).mx", problem: "needs at least one MX host pattern (e.g. \"*.google.com\") or a preset")
        }
        try shaping.validate(key: key)
    }
}

/// `delivery.backoff_rules[]` — when a remote reply matches, slow down or pause sending
/// for a while (adaptive backoff). Matching is on every given field: `code` (exact, or a
/// class such as `4xx`), `enhanced` (prefix, e.g. `4.7`), `text` (a case-insensitive
/// regular expression over the reply text).
public struct BackoffRuleSettings: Sendable, Codable, Hashable {
    public enum Action: String, Sendable, Codable, CaseIterable {
        /// Multiply the (IP, site) message rate by `factor` for `duration`.
        case slow
        /// Stop sending from this IP to this site for `duration`.
        case suspendIP = "suspend_ip"
        /// Stop sending to this site from every IP for `duration`.
        case suspendSite = "suspend_site"
    }

    public var name: String?
    public var code: String?
    public var enhanced: String?
    public var text: String?
    public var action: Action
    /// For `slow`: between 0 and 1. Default 0.5.
    public var factor: Double
    public var duration: ConfigDuration
    /// Only for these sites (default: all).
    public var sites: [String]?

    enum CodingKeys: String, CodingKey, CaseIterable { case name, code, enhanced, text, action, factor, duration, sites }

    public init(
        name: String? = nil, code: String? = nil, enhanced: String? = nil, text: String? = nil,
        action: Action, factor: Double = 0.5, duration: ConfigDuration, sites: [String]? = nil
    ) {
        self.name = name
        self.code = code
        self.enhanced = enhanced
        self.text = text
        self.action = action
        self.factor = factor
        self.duration = duration
        self.sites = sites
    }

    public init(from decoder: Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        name = try c.decodeIfPresent(String.self, forKey: .name)
        if let number = try? c.decodeIfPresent(Int.self, forKey: .code) {
            code = String(number)
        } else {
            code = try c.decodeIfPresent(String.self, forKey: .code)
        }
        enhanced = try c.decodeIfPresent(String.self, forKey: .enhanced)
        text = try c.decodeIfPresent(String.self, forKey: .text)
        action = try c.decode(Action.self, forKey: .action)
        factor = try c.decodeIfPresent(Double.self, forKey: .factor) ?? 0.5
        duration = try c.decode(ConfigDuration.self, forKey: .duration)
        sites = try c.decodeIfPresent([String].self, forKey: .sites)
    }

    func validate(key: String) throws {
        if let code, !(code.count == 3 && code.enumerated().allSatisfy({ i, ch in ch.isNumber || (i > 0 && ch == "x") })) {
            throw ConfigurationError(key: "\(key).code", problem: "'\(code)' is not a reply code such as 421 or 4xx")
        }
        if code == nil && enhanced == nil && text == nil {
            throw ConfigurationError(key: key, problem: "a rule needs at least one of code, enhanced, text")
        }
        if let text, (try? Regex(text)) == nil {
            throw ConfigurationError(key: "\(key).text", problem: "'\(text)' is not a valid regular expression")
        }
        if action == .slow && !(factor > 0 && factor < 1) {
            throw ConfigurationError(key: "\(key).factor", problem: "must be between 0 and 1 (exclusive) for slow")
        }
        if duration.milliseconds < 1000 {
            throw ConfigurationError(key: "\(key).duration", problem: "must be at least 1s")
        }
    }
}
