/// The whole configuration of a Hikyaku process, read from one YAML file (see the README's
/// "Configuration reference" for every key) with `HIKYAKU_…` environment overrides.
///
/// Every key has a documented default, so an empty file is a valid configuration for a
/// relay on this machine.
public struct HikyakuConfiguration: Sendable, Codable {
    /// The relay's own name: in the `220` greeting, the EHLO reply, `Received:` headers
    /// and generated `Message-ID`s. Default: the machine's host name.
    public var hostname: String
    /// The base of this process's stable identity in the queue (its Redis consumer name is
    /// `<node_name>/<slot>`, the lowest slot no live process holds; see `NodeIdentity`).
    /// A process restarted after a crash takes its identity back and with it, at once, the
    /// work it had claimed. Default: `hostname`. Set it per process where several share a
    /// host name (network namespaces, containers).
    public var nodeName: String?
    /// `trace`, `debug`, `info`, `notice`, `warning`, `error` or `critical`. Default `info`.
    public var logLevel: String
    public var redis: RedisSettings
    public var ingest: IngestSettings
    public var delivery: DeliverySettings
    public var metrics: MetricsSettings
    public var accounts: AccountSettings
    public var secrets: SecretsSettings
    public var api: APISettings
    public var webhooks: WebhookSettings
    public var events: EventsSettings
    public var bounces: BounceSettings
    public var suppression: SuppressionSettings
    public var logs: LogSettings
    public var console: ConsoleSettings
    public var campaigns: CampaignSettings

    enum CodingKeys: String, CodingKey, CaseIterable {
        case hostname, nodeName = "node_name", logLevel = "log_level", redis, ingest, delivery, metrics, accounts, secrets, api, webhooks,
            events, bounces, suppression, logs, console, campaigns
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
        self.secrets = SecretsSettings()
        self.api = APISettings()
        self.webhooks = WebhookSettings()
        self.events = EventsSettings()
        self.bounces = BounceSettings()
        self.suppression = SuppressionSettings()
        self.logs = LogSettings()
        self.console = ConsoleSettings()
        self.campaigns = CampaignSettings()
    }

    public init(from decoder: Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init()
        hostname = try c.decodeIfPresent(String.self, forKey: .hostname) ?? hostname
        nodeName = try c.decodeIfPresent(String.self, forKey: .nodeName) ?? nodeName
        logLevel = try c.decodeIfPresent(String.self, forKey: .logLevel) ?? logLevel
        redis = try c.decodeIfPresent(RedisSettings.self, forKey: .redis) ?? redis
        ingest = try c.decodeIfPresent(IngestSettings.self, forKey: .ingest) ?? ingest
        delivery = try c.decodeIfPresent(DeliverySettings.self, forKey: .delivery) ?? delivery
        metrics = try c.decodeIfPresent(MetricsSettings.self, forKey: .metrics) ?? metrics
        accounts = try c.decodeIfPresent(AccountSettings.self, forKey: .accounts) ?? accounts
        secrets = try c.decodeIfPresent(SecretsSettings.self, forKey: .secrets) ?? secrets
        api = try c.decodeIfPresent(APISettings.self, forKey: .api) ?? api
        webhooks = try c.decodeIfPresent(WebhookSettings.self, forKey: .webhooks) ?? webhooks
        events = try c.decodeIfPresent(EventsSettings.self, forKey: .events) ?? events
        bounces = try c.decodeIfPresent(BounceSettings.self, forKey: .bounces) ?? bounces
        suppression = try c.decodeIfPresent(SuppressionSettings.self, forKey: .suppression) ?? suppression
        logs = try c.decodeIfPresent(LogSettings.self, forKey: .logs) ?? logs
        console = try c.decodeIfPresent(ConsoleSettings.self, forKey: .console) ?? console
        campaigns = try c.decodeIfPresent(CampaignSettings.self, forKey: .campaigns) ?? campaigns
    }

    /// Checks relations between keys that a single key's decoder cannot see.
    public func validate() throws {
        if hostname.isEmpty || hostname.contains(" ") {
            throw ConfigurationError(key: "hostname", problem: "must be a host name such as relay.example.com")
        }
        if let nodeName, !Self.isValidNodeName(nodeName) {
            throw ConfigurationError(key: "node_name", problem: "'\(nodeName)' must be 1-100 letters, digits, '.', '-', '_' or ':'")
        }
        if !Self.logLevels.contains(logLevel) {
            throw ConfigurationError(key: "log_level", problem: "'\(logLevel)' is not one of \(Self.logLevels.joined(separator: ", "))")
        }
        try redis.validate()
        try ingest.validate()
        try delivery.validate()
        try metrics.validate()
        try accounts.validate()
        try secrets.validate()
        try api.validate(tlsConfigured: ingest.tls != nil)
        try webhooks.validate()
        try events.validate()
        try bounces.validate()
        try suppression.validate()
        try logs.validate()
        try console.validate(tlsConfigured: ingest.tls != nil)
        try campaigns.validate()
    }

    /// Letters, digits and `.-_:` only: the name is part of Redis keys and of connection
    /// lease names (`<consumer>#<n>`), so `#`, `/`, spaces and control characters are out.
    public static func isValidNodeName(_ name: String) -> Bool {
        (1...100).contains(name.utf8.count)
            && name.utf8.allSatisfy { ($0 >= 0x30 && $0 <= 0x39) || ($0 | 0x20 >= 0x61 && $0 | 0x20 <= 0x7A) || ".-_:".utf8.contains($0) }
    }

    /// `node_name`, or the host name when it is not set (a host name with characters a node
    /// name cannot hold has them replaced by `-`).
    public var effectiveNodeName: String {
        if let nodeName { return nodeName }
        let cleaned = hostname.unicodeScalars.prefix(100).map { Self.isValidNodeName(String($0)) ? String($0) : "-" }.joined()
        return cleaned.isEmpty ? "localhost" : cleaned
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
