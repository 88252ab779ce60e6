/// The whole configuration of a Hikyaku process, read from one YAML file (see the README's
/// "Configuration reference" for every key) with `HIKYAKU_…` environment overrides.
///
/// Every key has a documented default, so an empty file is a valid configuration for a
/// relay on this machine.
public struct HikyakuConfiguration: Sendable, Codable {
    /// The relay's own name: in the `220` greeting, the EHLO reply, `Received:` headers
    /// and generated `Message-ID`s. Default: the machine's host name.
    public var hostname: String
    /// `trace`, `debug`, `info`, `notice`, `warning`, `error` or `critical`. Default `info`.
    public var logLevel: String
    public var redis: RedisSettings
    public var ingest: IngestSettings
    public var delivery: DeliverySettings
    public var metrics: MetricsSettings
    public var accounts: AccountSettings

    enum CodingKeys: String, CodingKey, CaseIterable {
        case hostname, logLevel = "log_level", redis, ingest, delivery, metrics, accounts
    }

    public static let logLevels = ["trace", "debug", "info", "notice", "warning", "error", "critical"]

    public init(hostname: String = HikyakuConfiguration.defaultHostname()) {
        self.hostname = hostname
        self.logLevel = "info"
        self.redis = RedisSettings()
        self.ingest = IngestSettings()
        self.delivery = DeliverySettings()
        self.metrics = MetricsSettings()
        self.accounts = AccountSettings()
    }

    public init(from decoder: Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init()
        hostname = try c.decodeIfPresent(String.self, forKey: .hostname) ?? hostname
        logLevel = try c.decodeIfPresent(String.self, forKey: .logLevel) ?? logLevel
        redis = try c.decodeIfPresent(RedisSettings.self, forKey: .redis) ?? redis
        ingest = try c.decodeIfPresent(IngestSettings.self, forKey: .ingest) ?? ingest
        delivery = try c.decodeIfPresent(DeliverySettings.self, forKey: .delivery) ?? delivery
        metrics = try c.decodeIfPresent(MetricsSettings.self, forKey: .metrics) ?? metrics
        accounts = try c.decodeIfPresent(AccountSettings.self, forKey: .accounts) ?? accounts
    }

    /// Checks relations between keys that a single key's decoder cannot see.
    public func validate() throws {
        if hostname.isEmpty || hostname.contains(" ") {
            throw ConfigurationError(key: "hostname", problem: "must be a host name such as relay.example.com")
        }
        if !Self.logLevels.contains(logLevel) {
            throw ConfigurationError(key: "log_level", problem: "'\(logLevel)' is not one of \(Self.logLevels.joined(separator: ", "))")
        }
        try redis.validate()
        try ingest.validate()
        try delivery.validate()
        try metrics.validate()
        try accounts.validate()
    }

    public static func defaultHostname() -> String {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count) == 0 else { return "localhost" }
        let name = String(decoding: buffer.prefix(while: { $0 != 0 }).map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return name.isEmpty ? "localhost" : name
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
