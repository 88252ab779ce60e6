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
    /// `host:port` of some Redis Cluster nodes (README, "Redis Cluster"). When set, each
    /// command goes to the primary of its key's hash slot, following `MOVED`/`ASK` and
    /// failovers; `url` then supplies only the user, password and TLS (database 0). Cannot
    /// be combined with `sentinels`. Default: none.
    public var cluster: [String]
    /// Prepended to every Redis key Hikyaku writes (docs/KEY-LAYOUT.md). On a Redis Cluster
    /// it must carry a hash tag (`hk:{q1}:`): the tag puts all of one relay's keys in one
    /// slot, since its functions touch keys of many kinds at once. Several relays may share
    /// one Redis (Cluster) with different prefixes. Default `hk:`, on a cluster `hk:{hk}:`.
    public var keyPrefix: String?
    /// Prepended to the limit keys instead of `key_prefix`: the rates, connection and
    /// identity leases, warm-up counts, slowdowns and suspensions each claim reads and
    /// charges (docs/KEY-LAYOUT.md). On a Redis Cluster a prefix with a hash tag of its own
    /// (`hk:{hk-limits}:`) puts that work in another slot, so on another primary when the
    /// cluster places it there; the workers then claim in three steps (limits, entries,
    /// refund), which never let a limit be exceeded. Set it before the first start: limit
    /// state under the old prefix is not moved. Default: `key_prefix`.
    public var limitsKeyPrefix: String?

    enum CodingKeys: String, CodingKey, CaseIterable {
        case url, commandTimeout = "command_timeout", connections, sentinels, masterName = "master_name"
        case sentinelPassword = "sentinel_password", sentinelUsername = "sentinel_username", waitReplicas = "wait_replicas", waitTimeout =
            "wait_timeout", tls
        case cluster, keyPrefix = "key_prefix", limitsKeyPrefix = "limits_key_prefix"
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
        cluster = []
        keyPrefix = nil
        limitsKeyPrefix = nil
    }

    /// The prefix every key starts with: `key_prefix`, or the default for the topology.
    public var effectiveKeyPrefix: String {
        keyPrefix ?? (cluster.isEmpty ? "hk:" : "hk:{hk}:")
    }

    /// The prefix of the limit keys: `limits_key_prefix`, or the key prefix.
    public var effectiveLimitsKeyPrefix: String {
        limitsKeyPrefix ?? effectiveKeyPrefix
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
        cluster = try c.decodeIfPresent([String].self, forKey: .cluster) ?? cluster
        keyPrefix = try c.decodeIfPresent(String.self, forKey: .keyPrefix)
        limitsKeyPrefix = try c.decodeIfPresent(String.self, forKey: .limitsKeyPrefix)
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
        for (index, node) in cluster.enumerated() where HostPort.parse(node) == nil {
            throw ConfigurationError(key: "redis.cluster[\(index)]", problem: "'\(node)' is not host:port (e.g. 10.0.0.11:6379)")
        }
        if !cluster.isEmpty && !sentinels.isEmpty {
            throw ConfigurationError(
                key: "redis.cluster", problem: "cannot be combined with redis.sentinels (a Redis Cluster fails over by itself)")
        }
        for (name, value) in [("redis.key_prefix", keyPrefix), ("redis.limits_key_prefix", limitsKeyPrefix)] {
            guard let value else { continue }
            if value.isEmpty || value.utf8.count > 64 || !value.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F })
                || value.contains("*") || value.contains("?") || value.contains("[")
            {
                throw ConfigurationError(
                    key: name, problem: "'\(value)' must be 1-64 visible ASCII characters without *, ? or [ (e.g. hk:{q1}:)")
            }
        }
        if !cluster.isEmpty && !Self.hasHashTag(effectiveKeyPrefix) {
            throw ConfigurationError(
                key: "redis.key_prefix",
                problem:
                    "'\(effectiveKeyPrefix)' needs a hash tag on a Redis Cluster, e.g. hk:{q1}: (all of a relay's keys must share one slot)"
            )
        }
        if let limitsKeyPrefix, limitsKeyPrefix != effectiveKeyPrefix {
            if limitsKeyPrefix.hasPrefix(effectiveKeyPrefix) || effectiveKeyPrefix.hasPrefix(limitsKeyPrefix) {
                throw ConfigurationError(
                    key: "redis.limits_key_prefix",
                    problem:
                        "'\(limitsKeyPrefix)' and redis.key_prefix '\(effectiveKeyPrefix)' must not start one with the other (e.g. hk:{hk}: and hk:{hk-limits}:)"
                )
            }
            if !cluster.isEmpty && !Self.hasHashTag(limitsKeyPrefix) {
                throw ConfigurationError(
                    key: "redis.limits_key_prefix",
                    problem:
                        "'\(limitsKeyPrefix)' needs a hash tag on a Redis Cluster, e.g. hk:{hk-limits}: (all limit keys must share one slot)"
                )
            }
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
    /// Whether `prefix` holds a non-empty `{…}` hash tag, which then decides the slot of
    /// every key that starts with it (the first `{` and the first `}` after it).
    static func hasHashTag(_ prefix: String) -> Bool {
        guard let open = prefix.firstIndex(of: "{") else { return false }
        let rest = prefix[prefix.index(after: open)...]
        guard let close = rest.firstIndex(of: "}") else { return false }
        return close != rest.startIndex
    }

    /// `redis.url` with its password masked, for logs and `check-config`.
    public var redactedURL: String? {
        url.map(CredentialRedaction.redact)
    }
}
