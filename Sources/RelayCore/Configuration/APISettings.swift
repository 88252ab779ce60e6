/// `api:` — the HTTP send API (`/v1`, README "HTTP API"). It is served by the `api` role
/// (and by `all`), over HTTPS with the ingest certificate (`ingest.tls`); plain HTTP is
/// served only to clients in ``plainNetworks``.
public struct APISettings: Sendable, Codable {
    /// `host:port` sockets for HTTPS. Default: none. Needs `ingest.tls`.
    public var listen: [String]
    /// `host:port` sockets for plain HTTP. Default: none (`make run` serves `127.0.0.1:8025`).
    /// With neither this nor ``listen`` the API is off.
    public var plainListen: [String]
    /// Clients allowed on the plain-HTTP sockets; others are disconnected before a byte of
    /// their request is read (an API key must not cross a network in clear). Default
    /// `127.0.0.0/8` and `::1`.
    public var plainNetworks: [IPNetwork]
    /// Largest request body (`413` above it). Default `10MiB`.
    public var maxRequestSize: ByteSize
    /// Most personalizations in one `POST /v1/messages/batch`. Default 1000.
    public var maxBatchSize: Int
    /// How long an `Idempotency-Key` answer is kept. Default `24h`.
    public var idempotencyTTL: ConfigDuration
    /// How long a second request with the same key waits for the first to finish before
    /// it gets `409`. Default `10s`.
    public var idempotencyWait: ConfigDuration
    /// Requests per API key, unless the key sets its own (`hikyaku account api-key create
    /// --rate`). Default `50/s burst 100`.
    public var keyRate: Rate

    enum CodingKeys: String, CodingKey, CaseIterable {
        case listen, plainListen = "plain_listen", plainNetworks = "plain_networks", maxRequestSize = "max_request_size"
        case maxBatchSize = "max_batch_size", idempotencyTTL = "idempotency_ttl", idempotencyWait = "idempotency_wait"
        case keyRate = "key_rate"
    }

    public init() {
        listen = []
        plainListen = []
        plainNetworks = [IPNetwork(parsing: "127.0.0.0/8")!, IPNetwork(parsing: "::1")!]
        maxRequestSize = .mebibytes(10)
        maxBatchSize = 1000
        idempotencyTTL = .hours(24)
        idempotencyWait = .seconds(10)
        keyRate = Rate(count: 50, period: .seconds(1), burst: 100)
    }

    public init(from decoder: Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init()
        listen = try c.decodeIfPresent([String].self, forKey: .listen) ?? listen
        plainListen = try c.decodeIfPresent([String].self, forKey: .plainListen) ?? plainListen
        plainNetworks = try c.decodeIfPresent([IPNetwork].self, forKey: .plainNetworks) ?? plainNetworks
        maxRequestSize = try c.decodeIfPresent(ByteSize.self, forKey: .maxRequestSize) ?? maxRequestSize
        maxBatchSize = try c.decodeIfPresent(Int.self, forKey: .maxBatchSize) ?? maxBatchSize
        idempotencyTTL = try c.decodeIfPresent(ConfigDuration.self, forKey: .idempotencyTTL) ?? idempotencyTTL
        idempotencyWait = try c.decodeIfPresent(ConfigDuration.self, forKey: .idempotencyWait) ?? idempotencyWait
        keyRate = try c.decodeIfPresent(Rate.self, forKey: .keyRate) ?? keyRate
    }

    func validate(tlsConfigured: Bool) throws {
        for (index, address) in listen.enumerated() where HostPort.parse(address) == nil {
            throw ConfigurationError(key: "api.listen[\(index)]", problem: "'\(address)' is not host:port (e.g. 0.0.0.0:8443)")
        }
        for (index, address) in plainListen.enumerated() where HostPort.parse(address) == nil {
            throw ConfigurationError(key: "api.plain_listen[\(index)]", problem: "'\(address)' is not host:port (e.g. 127.0.0.1:8025)")
        }
        if !listen.isEmpty, !tlsConfigured {
            throw ConfigurationError(key: "api.listen", problem: "HTTPS needs ingest.tls.certificate and ingest.tls.private_key")
        }
        if let duplicate = Dictionary(grouping: listen + plainListen, by: { $0 }).first(where: { $0.value.count > 1 })?.key {
            throw ConfigurationError(key: "api", problem: "'\(duplicate)' is listed twice")
        }
        if maxRequestSize.bytes < 1024 || maxRequestSize.bytes > 1 << 30 {
            throw ConfigurationError(key: "api.max_request_size", problem: "must be between 1KiB and 1GiB")
        }
        if !(1...10_000).contains(maxBatchSize) {
            throw ConfigurationError(key: "api.max_batch_size", problem: "must be between 1 and 10000")
        }
        if idempotencyTTL.milliseconds < 60_000 {
            throw ConfigurationError(key: "api.idempotency_ttl", problem: "must be at least 1m")
        }
        if idempotencyWait.milliseconds < 100 {
            throw ConfigurationError(key: "api.idempotency_wait", problem: "must be at least 100ms")
        }
    }
}
