/// `delivery:` — how workers claim work and talk to recipients' MX servers.
public struct DeliverySettings: Sendable, Codable {
    /// Destinations a worker process delivers to at once. Default 16.
    public var concurrency: Int
    /// Delivery loops of one worker process that one site (MX rollup) may hold at once, so
    /// a site's backlog — a slow one above all — leaves loops for other due destinations
    /// and rate-limited sites are served at their limits. Default (nil):
    /// ``defaultMaxLoopsPerSite(concurrency:)``, all loops but a quarter.
    public var maxLoopsPerSite: Int?
    /// Messages claimed for one destination in one batch. Default 50.
    public var batchSize: Int
    /// RCPTs in one SMTP transaction (RFC 5321 §4.5.3.1.8 requires servers take ≥ 100). Default 100.
    public var maxRecipientsPerTransaction: Int
    /// Waits before each retry of a deferred (4xx) recipient; the last repeats.
    /// Default `[1m, 5m, 15m, 30m, 1h, 2h, 4h]`.
    public var retrySchedule: [ConfigDuration]
    /// Random spread added to each wait, as a fraction of it (0–1). Default 0.1.
    public var retryJitter: Double
    /// A recipient still deferred this long after acceptance expires (final). Default `5d`.
    public var maxAge: ConfigDuration
    /// TCP connect timeout per MX address. Default `30s`.
    public var connectTimeout: ConfigDuration
    /// Wait for each SMTP reply (RFC 5321 §4.5.3.2 suggests minutes). Default `5m`.
    public var commandTimeout: ConfigDuration
    /// Name sent in EHLO. Default: the top-level `hostname`.
    public var heloName: String?
    /// Recursive DNS servers for MX lookups (`ip` or `ip:port`). Default: /etc/resolv.conf.
    public var dnsServers: [String]
    /// TCP port of recipients' MX servers. Default 25 (tests and simulators change it).
    public var mxPort: Int
    /// Static routes that bypass MX lookup: `domain: host:port`. They bypass the address
    /// checks below too, all but one: never this host's own SMTP listeners.
    public var routes: [String: String]
    /// MX addresses a worker never connects to, besides the built-in ones (loopback,
    /// unspecified, link-local, multicast, broadcast). Stronger than `allowed_mx_networks`.
    /// Default: none.
    public var forbiddenNetworks: [IPNetwork]
    /// Built-in forbidden ranges a worker may connect to all the same — how tests and
    /// simulators on `127.0.0.0/8` work. Default: none. Private ranges (RFC 1918, ULA) are
    /// allowed anyway; this host's own SMTP listeners never are.
    public var allowedMXNetworks: [IPNetwork]
    /// Outbound STARTTLS: `opportunistic` (use when offered, RFC 3207 / RFC 7435) or `disabled`. Default `opportunistic`.
    public var tls: OutboundTLS
    /// PEM bundle of trusted CAs for verified outbound TLS (MTA-STS `enforce`, `tls_required`
    /// sites, policy fetches). Default: the system bundle (`ca-certificates`). A worker
    /// that needs it and finds none refuses to start.
    public var caFile: String?
    /// `tls_required` sites: verify the certificate chain (against `ca_file`) and that it
    /// names the MX host; false accepts any certificate, as opportunistic TLS does. Default true.
    public var verifyTLSRequired: Bool
    /// MTA-STS (RFC 8461).
    public var mtaSTS: MTASTSSettings
    /// DANE (RFC 7672).
    public var dane: DANESettings
    /// A claimed batch whose worker stopped confirming it for this long is taken over by
    /// another worker (that worker is presumed dead). Default `2m`.
    public var claimTimeout: ConfigDuration
    /// How long this process's identity (`node_name` slot) stays reserved in Redis after it
    /// last renewed it (every third of this). A process killed without a chance to give its
    /// identity back frees it after at most this long — a restart on the same machine sees
    /// at once that the holder is dead and does not wait. Default `10s`.
    public var nodeLease: ConfigDuration
    /// Source addresses of this worker host, each in a pool. Default: none — connections
    /// use the system's choice of source address, as pool `default`.
    public var egress: [EgressIPSettings]
    /// Receiving sites with their own limits (MX rollup).
    public var sites: [SiteSettings]
    /// Limits for sites without their own (over the built-in defaults).
    public var defaultShaping: ShapingSettings
    /// Adaptive backoff rules, tried before the built-in ones.
    public var backoffRules: [BackoffRuleSettings]
    /// Whether the built-in backoff rules (well-known throttle replies) apply. Default true.
    public var builtInBackoffRules: Bool

    public enum OutboundTLS: String, Sendable, Codable, CaseIterable { case opportunistic, disabled }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case concurrency, maxLoopsPerSite = "max_loops_per_site", batchSize = "batch_size", maxRecipientsPerTransaction =
            "max_recipients_per_transaction"
        case retrySchedule = "retry_schedule", retryJitter = "retry_jitter", maxAge = "max_age"
        case connectTimeout = "connect_timeout", commandTimeout = "command_timeout", heloName = "helo_name"
        case dnsServers = "dns_servers", mxPort = "mx_port", routes, tls, claimTimeout = "claim_timeout", nodeLease = "node_lease"
        case forbiddenNetworks = "forbidden_networks", allowedMXNetworks = "allowed_mx_networks"
        case caFile = "ca_file", verifyTLSRequired = "verify_tls_required", mtaSTS = "mta_sts", dane
        case egress, sites, defaultShaping = "default_shaping", backoffRules = "backoff_rules", builtInBackoffRules =
            "built_in_backoff_rules"
    }

    public init() {
        concurrency = 16
        maxLoopsPerSite = nil
        batchSize = 50
        maxRecipientsPerTransaction = 100
        retrySchedule = [.minutes(1), .minutes(5), .minutes(15), .minutes(30), .hours(1), .hours(2), .hours(4)]
        retryJitter = 0.1
        maxAge = .days(5)
        connectTimeout = .seconds(30)
        commandTimeout = .minutes(5)
        heloName = nil
        dnsServers = []
        mxPort = 25
        routes = [:]
        forbiddenNetworks = []
        allowedMXNetworks = []
        tls = .opportunistic
        caFile = nil
        verifyTLSRequired = true
        mtaSTS = MTASTSSettings()
        dane = DANESettings()
        claimTimeout = .minutes(2)
        nodeLease = .seconds(10)
        egress = []
        sites = []
        defaultShaping = ShapingSettings()
        backoffRules = []
        builtInBackoffRules = true
    }

    public init(from decoder: Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init()
        concurrency = try c.decodeIfPresent(Int.self, forKey: .concurrency) ?? concurrency
        maxLoopsPerSite = try c.decodeIfPresent(Int.self, forKey: .maxLoopsPerSite) ?? maxLoopsPerSite
        batchSize = try c.decodeIfPresent(Int.self, forKey: .batchSize) ?? batchSize
        maxRecipientsPerTransaction = try c.decodeIfPresent(Int.self, forKey: .maxRecipientsPerTransaction) ?? maxRecipientsPerTransaction
        retrySchedule = try c.decodeIfPresent([ConfigDuration].self, forKey: .retrySchedule) ?? retrySchedule
        retryJitter = try c.decodeIfPresent(Double.self, forKey: .retryJitter) ?? retryJitter
        maxAge = try c.decodeIfPresent(ConfigDuration.self, forKey: .maxAge) ?? maxAge
        connectTimeout = try c.decodeIfPresent(ConfigDuration.self, forKey: .connectTimeout) ?? connectTimeout
        commandTimeout = try c.decodeIfPresent(ConfigDuration.self, forKey: .commandTimeout) ?? commandTimeout
        heloName = try c.decodeIfPresent(String.self, forKey: .heloName) ?? heloName
        dnsServers = try c.decodeIfPresent([String].self, forKey: .dnsServers) ?? dnsServers
        mxPort = try c.decodeIfPresent(Int.self, forKey: .mxPort) ?? mxPort
        routes = try c.decodeIfPresent([String: String].self, forKey: .routes) ?? routes
        forbiddenNetworks = try c.decodeIfPresent([IPNetwork].self, forKey: .forbiddenNetworks) ?? forbiddenNetworks
        allowedMXNetworks = try c.decodeIfPresent([IPNetwork].self, forKey: .allowedMXNetworks) ?? allowedMXNetworks
        tls = try c.decodeIfPresent(OutboundTLS.self, forKey: .tls) ?? tls
        caFile = try c.decodeIfPresent(String.self, forKey: .caFile) ?? caFile
        verifyTLSRequired = try c.decodeIfPresent(Bool.self, forKey: .verifyTLSRequired) ?? verifyTLSRequired
        mtaSTS = try c.decodeIfPresent(MTASTSSettings.self, forKey: .mtaSTS) ?? mtaSTS
        dane = try c.decodeIfPresent(DANESettings.self, forKey: .dane) ?? dane
        claimTimeout = try c.decodeIfPresent(ConfigDuration.self, forKey: .claimTimeout) ?? claimTimeout
        nodeLease = try c.decodeIfPresent(ConfigDuration.self, forKey: .nodeLease) ?? nodeLease
        egress = try c.decodeIfPresent([EgressIPSettings].self, forKey: .egress) ?? egress
        sites = try c.decodeIfPresent([SiteSettings].self, forKey: .sites) ?? sites
        defaultShaping = try c.decodeIfPresent(ShapingSettings.self, forKey: .defaultShaping) ?? defaultShaping
        backoffRules = try c.decodeIfPresent([BackoffRuleSettings].self, forKey: .backoffRules) ?? backoffRules
        builtInBackoffRules = try c.decodeIfPresent(Bool.self, forKey: .builtInBackoffRules) ?? builtInBackoffRules
    }

    /// The loops one site may hold: `max_loops_per_site`, or all but a reserve of a quarter
    /// of `concurrency` (at least one loop in reserve, at least one for the site).
    public var loopsPerSite: Int { maxLoopsPerSite ?? Self.defaultMaxLoopsPerSite(concurrency: concurrency) }

    /// `max(1, concurrency - max(1, concurrency / 4))`: 16 loops → 12 per site, 4 → 3, 1 → 1.
    public static func defaultMaxLoopsPerSite(concurrency: Int) -> Int {
        max(1, concurrency - max(1, concurrency / 4))
    }

    func validate() throws {
        if !(1...4096).contains(concurrency) {
            throw ConfigurationError(key: "delivery.concurrency", problem: "must be between 1 and 4096")
        }
        if let maxLoopsPerSite, !(1...concurrency).contains(maxLoopsPerSite) {
            throw ConfigurationError(
                key: "delivery.max_loops_per_site", problem: "must be between 1 and delivery.concurrency (\(concurrency))")
        }
        if !(1...1000).contains(batchSize) {
            throw ConfigurationError(key: "delivery.batch_size", problem: "must be between 1 and 1000")
        }
        if !(1...1000).contains(maxRecipientsPerTransaction) {
            throw ConfigurationError(key: "delivery.max_recipients_per_transaction", problem: "must be between 1 and 1000")
        }
        if retrySchedule.isEmpty {
            throw ConfigurationError(key: "delivery.retry_schedule", problem: "needs at least one wait, e.g. [1m, 5m, 30m]")
        }
        for (index, wait) in retrySchedule.enumerated() where wait.milliseconds < 100 {
            throw ConfigurationError(key: "delivery.retry_schedule[\(index)]", problem: "must be at least 100ms")
        }
        if !(0...1).contains(retryJitter) {
            throw ConfigurationError(key: "delivery.retry_jitter", problem: "must be between 0 and 1")
        }
        if !(1...65535).contains(mxPort) {
            throw ConfigurationError(key: "delivery.mx_port", problem: "must be a TCP port (1-65535)")
        }
        try mtaSTS.validate()
        if claimTimeout.milliseconds < 1000 {
            throw ConfigurationError(key: "delivery.claim_timeout", problem: "must be at least 1s")
        }
        if nodeLease.milliseconds < 3000 {
            throw ConfigurationError(key: "delivery.node_lease", problem: "must be at least 3s")
        }
        var addresses = Set<String>()
        for (index, ip) in egress.enumerated() {
            try ip.validate(key: "delivery.egress[\(index)]")
            if !addresses.insert(ip.address).inserted {
                throw ConfigurationError(key: "delivery.egress[\(index)].address", problem: "'\(ip.address)' is listed twice")
            }
        }
        var siteNames = Set<String>()
        for (index, site) in sites.enumerated() {
            try site.validate(key: "delivery.sites[\(index)]")
            if !siteNames.insert(site.name).inserted {
                throw ConfigurationError(key: "delivery.sites[\(index)].name", problem: "'\(site.name)' is used by another site")
            }
        }
        try defaultShaping.validate(key: "delivery.default_shaping")
        for (index, rule) in backoffRules.enumerated() {
            try rule.validate(key: "delivery.backoff_rules[\(index)]")
        }
        for (domain, target) in routes where HostPort.parse(target) == nil {
            throw ConfigurationError(key: "delivery.routes.\(domain)", problem: "'\(target)' is not host:port")
        }
    }
}
