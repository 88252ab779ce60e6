/// `logs:` — the log store (README "Delivery logs"): the archiver role copies the events
/// stream into it; `hikyaku logs search` and the console read it.
///
/// ```yaml
/// logs:
///   sqlite_path: var/logs.sqlite   # set: `serve --role all` runs the archiver too
///   # or PostgreSQL (then any number of archivers and consoles):
///   # postgres_url: postgres://hikyaku@db.internal:5432/hikyaku?sslmode=require
///   # postgres_password_file: /etc/hikyaku/postgres-password
///   retention: 30d
///   batch_size: 500
/// ```
public struct LogSettings: Sendable, Codable {
    /// The SQLite file. `--role archiver` and `hikyaku logs …` use `var/logs.sqlite` when it
    /// is not set; `--role all` runs an archiver only when it is (one SQLite archiver per
    /// store: they hold a lease in Redis).
    public var sqlitePath: String?
    /// The PostgreSQL store (`postgres://user@host:port/db[?sslmode=…]`). Set: the archiver
    /// writes it and the console, the API and `hikyaku logs` read it (`sqlite_path` is not
    /// used); any number of archivers run at once.
    public var postgresURL: String?
    /// A file holding the PostgreSQL password (its first line), instead of one in the URL.
    public var postgresPasswordFile: String?
    /// Events older than this are deleted in the background. Default `30d`.
    public var retention: ConfigDuration
    /// Hourly counts are kept this long (they hold no addresses). Default `400d`.
    public var statsRetention: ConfigDuration
    /// Events per read from the stream and per SQLite transaction. Default 500.
    public var batchSize: Int

    public static let defaultSQLitePath = "var/logs.sqlite"

    enum CodingKeys: String, CodingKey, CaseIterable {
        case sqlitePath = "sqlite_path", postgresURL = "postgres_url", postgresPasswordFile = "postgres_password_file", retention,
            statsRetention = "stats_retention", batchSize = "batch_size"
    }

    public init() {
        retention = .days(30)
        statsRetention = .days(400)
        batchSize = 500
    }

    public init(from decoder: Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init()
        sqlitePath = try c.decodeIfPresent(String.self, forKey: .sqlitePath) ?? sqlitePath
        postgresURL = try c.decodeIfPresent(String.self, forKey: .postgresURL)
        postgresPasswordFile = try c.decodeIfPresent(String.self, forKey: .postgresPasswordFile)
        retention = try c.decodeIfPresent(ConfigDuration.self, forKey: .retention) ?? retention
        statsRetention = try c.decodeIfPresent(ConfigDuration.self, forKey: .statsRetention) ?? statsRetention
        batchSize = try c.decodeIfPresent(Int.self, forKey: .batchSize) ?? batchSize
    }

    /// `sqlite_path`, or `var/logs.sqlite`.
    public var effectiveSQLitePath: String { sqlitePath ?? Self.defaultSQLitePath }

    /// `postgres_url` parsed, nil when unset.
    public func postgres() throws(ConfigurationError) -> PostgresURL? {
        try postgresURL.map { text throws(ConfigurationError) in try PostgresURL(parsing: text) }
    }

    /// Whether a log store is configured (`sqlite_path` or `postgres_url`): `--role all`
    /// then runs an archiver, and the console and the API read the store.
    public var isConfigured: Bool { sqlitePath != nil || postgresURL != nil }

    func validate() throws {
        _ = try postgres()
        if postgresPasswordFile != nil && postgresURL == nil {
            throw ConfigurationError(key: "logs.postgres_password_file", problem: "needs logs.postgres_url")
        }
        if let postgresPasswordFile, postgresPasswordFile.isEmpty {
            throw ConfigurationError(key: "logs.postgres_password_file", problem: "must be a file path (or left out)")
        }
        if let sqlitePath, sqlitePath.isEmpty {
            throw ConfigurationError(key: "logs.sqlite_path", problem: "must be a file path (or left out)")
        }
        if retention.milliseconds < 3_600_000 {
            throw ConfigurationError(key: "logs.retention", problem: "must be at least 1h")
        }
        if statsRetention.milliseconds < retention.milliseconds {
            throw ConfigurationError(key: "logs.stats_retention", problem: "must be at least logs.retention")
        }
        if !(1...10_000).contains(batchSize) {
            throw ConfigurationError(key: "logs.batch_size", problem: "must be 1 to 10000")
        }
    }
}
