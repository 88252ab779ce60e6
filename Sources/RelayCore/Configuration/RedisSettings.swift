/// `redis:` — where the queue lives.
public struct RedisSettings: Sendable, Codable {
    /// `redis://[[user]:password@]host[:port][/db]`. When absent, `hikyaku serve` refuses to
    /// start (`make run` starts a private redis-server and passes its URL).
    public var url: String?
    /// How long one Redis command may take before the caller gets an error (and an SMTP
    /// client gets `451 4.3.0`). Default `5s`.
    public var commandTimeout: ConfigDuration
    /// TCP connections per process; commands are pipelined on each. Default 4.
    public var connections: Int

    enum CodingKeys: String, CodingKey, CaseIterable {
        case url, commandTimeout = "command_timeout", connections
    }

    public init() {
        url = nil
        commandTimeout = .seconds(5)
        connections = 4
    }

    public init(from decoder: Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init()
        url = try c.decodeIfPresent(String.self, forKey: .url) ?? url
        commandTimeout = try c.decodeIfPresent(ConfigDuration.self, forKey: .commandTimeout) ?? commandTimeout
        connections = try c.decodeIfPresent(Int.self, forKey: .connections) ?? connections
    }

    func validate() throws {
        if let url, !(url.hasPrefix("redis://")) {
            throw ConfigurationError(key: "redis.url", problem: "'\(url)' must start with redis://")
        }
        if commandTimeout.milliseconds < 10 {
            throw ConfigurationError(key: "redis.command_timeout", problem: "must be at least 10ms")
        }
        if !(1...64).contains(connections) {
            throw ConfigurationError(key: "redis.connections", problem: "must be between 1 and 64")
        }
    }
}
