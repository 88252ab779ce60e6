/// `webhooks:` — the dispatcher of signed webhooks (role `webhooks`, README "Webhooks").
/// Endpoints themselves are kept in Redis (`hikyaku webhook add`).
public struct WebhookSettings: Sendable, Codable {
    /// Endpoints POSTed to at once by one dispatcher. Default 16.
    public var concurrency: Int
    /// One POST's deadline: connect, TLS, request and response. Default `10s`.
    public var requestTimeout: ConfigDuration
    /// The first retry's delay after a failed POST; it doubles per failure. Default `5s`.
    public var retryInitial: ConfigDuration
    /// The longest delay between two tries. Default `1h`.
    public var retryMax: ConfigDuration
    /// How long a batch is retried before it becomes a dead letter. Default `24h`.
    public var retryFor: ConfigDuration
    /// Most events waiting per endpoint, and most dead letters; past it the oldest are
    /// dropped (logged and counted). Default 100000.
    public var maxOutbox: Int
    /// How long a dispatcher's claim on an endpoint lasts unless renewed: a killed
    /// dispatcher's endpoints are taken over after it. Default `15s`.
    public var leaseTime: ConfigDuration

    enum CodingKeys: String, CodingKey, CaseIterable {
        case concurrency, requestTimeout = "request_timeout", retryInitial = "retry_initial", retryMax = "retry_max"
        case retryFor = "retry_for", maxOutbox = "max_outbox", leaseTime = "lease_time"
    }

    public init() {
        concurrency = 16
        requestTimeout = .seconds(10)
        retryInitial = .seconds(5)
        retryMax = .hours(1)
        retryFor = .hours(24)
        maxOutbox = 100_000
        leaseTime = .seconds(15)
    }

    public init(from decoder: Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init()
        concurrency = try c.decodeIfPresent(Int.self, forKey: .concurrency) ?? concurrency
        requestTimeout = try c.decodeIfPresent(ConfigDuration.self, forKey: .requestTimeout) ?? requestTimeout
        retryInitial = try c.decodeIfPresent(ConfigDuration.self, forKey: .retryInitial) ?? retryInitial
        retryMax = try c.decodeIfPresent(ConfigDuration.self, forKey: .retryMax) ?? retryMax
        retryFor = try c.decodeIfPresent(ConfigDuration.self, forKey: .retryFor) ?? retryFor
        maxOutbox = try c.decodeIfPresent(Int.self, forKey: .maxOutbox) ?? maxOutbox
        leaseTime = try c.decodeIfPresent(ConfigDuration.self, forKey: .leaseTime) ?? leaseTime
    }

    func validate() throws {
        if !(1...1000).contains(concurrency) {
            throw ConfigurationError(key: "webhooks.concurrency", problem: "must be between 1 and 1000")
        }
        if requestTimeout.milliseconds < 100 {
            throw ConfigurationError(key: "webhooks.request_timeout", problem: "must be at least 100ms")
        }
        if retryInitial.milliseconds < 10 || retryMax.milliseconds < retryInitial.milliseconds {
            throw ConfigurationError(key: "webhooks.retry_initial", problem: "must be at least 10ms and at most webhooks.retry_max")
        }
        if maxOutbox < 1 {
            throw ConfigurationError(key: "webhooks.max_outbox", problem: "must be at least 1")
        }
        if leaseTime.milliseconds < 1000 || leaseTime.milliseconds <= requestTimeout.milliseconds {
            throw ConfigurationError(key: "webhooks.lease_time", problem: "must be at least 1s and longer than webhooks.request_timeout")
        }
    }
}

/// `events:` — the events stream (`hikyaku events`, webhooks, `GET /v1/events`).
public struct EventsSettings: Sendable, Codable {
    /// The ceiling of the stream: every `XADD` trims it to about this many entries
    /// (`MAXLEN ~`), acknowledged or not. Default 14,400,000: an hour at 2,000 messages per
    /// second with two events each (accepted, delivered) — about 8 GB of Redis memory at
    /// ~550 bytes per entry (README "Webhooks": the arithmetic, and what happens past it).
    public var maxLength: Int
    /// Acknowledged events younger than this are kept for `hikyaku events tail` and
    /// `GET /v1/events` even when every consumer group has read them. Default `10m`.
    public var retention: ConfigDuration

    enum CodingKeys: String, CodingKey, CaseIterable { case maxLength = "max_length", retention }

    public init() {
        maxLength = 14_400_000
        retention = .minutes(10)
    }

    public init(from decoder: Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init()
        maxLength = try c.decodeIfPresent(Int.self, forKey: .maxLength) ?? maxLength
        retention = try c.decodeIfPresent(ConfigDuration.self, forKey: .retention) ?? retention
    }

    func validate() throws {
        if maxLength < 10 {
            throw ConfigurationError(key: "events.max_length", problem: "must be at least 10")
        }
    }
}
