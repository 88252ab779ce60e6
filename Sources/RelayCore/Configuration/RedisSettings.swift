/// `redis:` — where the queue lives.
public struct RedisSettings: Sendable, Codable {
    /// `redis://[[user]:password@]host[:port][/db]`, or `rediss://…` for TLS (see `tls`).
    /// The user is the Redis ACL user of this process's role (README, "Redis TLS and ACL
    /// users"). When absent, `hikyaku serve` refuses to start (`make run` starts a private
    /// redis-server and passes its URL).
    public var url: String?
    /// TLS settings of `rediss://` connections (data nodes and Sentinels). Default: none
    /// (with `rediss://`: the system's CA store, no client certificate).
    public var tls: RedisTLSSettings?
    /// How long one Redis command may take before the caller gets an error (and an SMTP
    /// client gets `451 4.3.0`). Default `5s`.
    public var commandTimeout: ConfigDuration
    /// TCP connections per process; commands are pipelined on each. Default 4.
    public var connections: Int
    /// `host:port` of Redis Sentinels. When set, every connection goes to the primary they
    /// name for `master_name`, and follows it after a failover; `url` then supplies only
    /// the password and database. Default: none (connect to `url`).
    public var sentinels: [String]
    /// The name the Sentinels monitor the primary under. Default `hikyaku`.
    public var masterName: String
    /// Sentinel's own password (`requirepass` in sentinel.conf), if any.
    public var sentinelPassword: String?
    /// The Sentinel ACL user to log in as with `sentinel_password` (a `user` line in
    /// sentinel.conf that may only ask for the primary); default: Sentinel's default user.
    public var sentinelUsername: String?
    /// Replicas that must acknowledge a message (Redis `WAIT`) before the client gets `250`.
    /// 0: `250` once the primary has it (with `appendfsync always`: on the primary's disk).
    /// Default 0.
    public var waitReplicas: Int
    /// How long to wait for those acknowledgements; if fewer replicas confirm in time, the
    /// client gets `451 4.3.0` and retries. Default `1s`.
    public var waitTimeout: ConfigDuration

    enum CodingKeys: String, CodingKey, CaseIterable {
        case url, commandTimeout = "command_timeout", connections, sentinels, masterName = "master_name"
        case sentinelPassword = "sentinel_password", sentinelUsername = "sentinel_username", waitReplicas = "wait_replicas", waitTimeout =
            "wait_timeout", tls
    }

    public init() {
        url = nil
        tls = nil
        commandTimeout = .seconds(5)
        connections = 4
        sentinels = []
        masterName = "hikyaku"
        sentinelPassword = nil
        waitReplicas = 0
        waitTimeout = .seconds(1)
    }

    public init(from decoder: Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init()
        url = try c.decodeIfPresent(String.self, forKey: .url) ?? url
        tls = try c.decodeIfPresent(RedisTLSSettings.self, forKey: .tls)
        commandTimeout = try c.decodeIfPresent(ConfigDuration.self, forKey: .commandTimeout) ?? commandTimeout
        connections = try c.decodeIfPresent(Int.self, forKey: .connections) ?? connections
        sentinels = try c.decodeIfPresent([String].self, forKey: .sentinels) ?? sentinels
        masterName = try c.decodeIfPresent(String.self, forKey: .masterName) ?? masterName
        sentinelPassword = try c.decodeIfPresent(String.self, forKey: .sentinelPassword)
        sentinelUsername = try c.decodeIfPresent(String.self, forKey: .sentinelUsername)
        waitReplicas = try c.decodeIfPresent(Int.self, forKey: .waitReplicas) ?? waitReplicas
        waitTimeout = try c.decodeIfPresent(ConfigDuration.self, forKey: .waitTimeout) ?? waitTimeout
    }

    func validate() throws {
        if let url, !url.hasPrefix("redis://"), !url.hasPrefix("rediss://") {
            throw ConfigurationError(
                key: "redis.url", problem: "must start with redis:// or rediss:// (the value is not shown: it may hold a password)")
        }
        if tls != nil, let url, url.hasPrefix("redis://") {
            throw ConfigurationError(key: "redis.tls", problem: "is set but redis.url is redis:// (clear text); use rediss://")
        }
        try tls?.validate()
        if sentinelUsername != nil && sentinelPassword == nil {
            throw ConfigurationError(key: "redis.sentinel_username", problem: "needs redis.sentinel_password")
        }
        if commandTimeout.milliseconds < 10 {
            throw ConfigurationError(key: "redis.command_timeout", problem: "must be at least 10ms")
        }
        if !(1...64).contains(connections) {
            throw ConfigurationError(key: "redis.connections", problem: "must be between 1 and 64")
        }
        for (index, sentinel) in sentinels.enumerated() where HostPort.parse(sentinel) == nil {
            throw ConfigurationError(key: "redis.sentinels[\(index)]", problem: "'\(sentinel)' is not host:port (e.g. 10.0.0.11:26379)")
        }
        if masterName.isEmpty || masterName.contains(" ") {
            throw ConfigurationError(key: "redis.master_name", problem: "must be the name in sentinel.conf's `sentinel monitor NAME …`")
        }
        if !(0...16).contains(waitReplicas) {
            throw ConfigurationError(key: "redis.wait_replicas", problem: "must be between 0 and 16")
        }
        if waitReplicas > 0 && (waitTimeout.milliseconds < 1 || waitTimeout.milliseconds >= commandTimeout.milliseconds) {
            throw ConfigurationError(key: "redis.wait_timeout", problem: "must be more than 0 and less than redis.command_timeout")
        }
    }
}

extension RedisSettings {
    /// `redis.url` with its password masked, for logs and `check-config`.
    public var redactedURL: String? {
        url.map(CredentialRedaction.redact)
    }
}
