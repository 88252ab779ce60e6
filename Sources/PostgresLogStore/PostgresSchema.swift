import PostgresNIO

/// The PostgreSQL store's tables: SQLite's (``LogStore``'s `LogSchema`) in PostgreSQL's
/// types — the same columns, keys and indexes, so the two stores answer alike. Metadata
/// only: never subject, body or display names.
enum PostgresSchema {
    static let statements: [String] = [
        """
        CREATE TABLE IF NOT EXISTS events(
            stream_id TEXT PRIMARY KEY, time_ms BIGINT NOT NULL, kind TEXT NOT NULL, account TEXT, queue_id TEXT,
            message_id TEXT, sender TEXT, recipient TEXT, recipient_domain TEXT, sending_domain TEXT, site TEXT,
            bounce_class TEXT, bounce_type TEXT, reply TEXT, remote_host TEXT, attempt BIGINT, json TEXT NOT NULL,
            stream_order BIGINT NOT NULL)
        """,
        "CREATE INDEX IF NOT EXISTS events_recipient ON events(recipient)",
        "CREATE INDEX IF NOT EXISTS events_message_id ON events(message_id)",
        "CREATE INDEX IF NOT EXISTS events_queue_id ON events(queue_id)",
        "CREATE INDEX IF NOT EXISTS events_account_time ON events(account, time_ms)",
        "CREATE INDEX IF NOT EXISTS events_kind_time ON events(kind, time_ms)",
        "CREATE INDEX IF NOT EXISTS events_time ON events(time_ms, stream_order)",
        """
        CREATE TABLE IF NOT EXISTS event_recipients(
            stream_id TEXT NOT NULL, recipient TEXT NOT NULL, time_ms BIGINT NOT NULL, PRIMARY KEY(recipient, stream_id))
        """,
        "CREATE INDEX IF NOT EXISTS event_recipients_time ON event_recipients(time_ms)",
        """
        CREATE TABLE IF NOT EXISTS stats_hourly(
            hour BIGINT NOT NULL, account TEXT NOT NULL, sending_domain TEXT NOT NULL, recipient_domain TEXT NOT NULL,
            site TEXT NOT NULL, kind TEXT NOT NULL, bounce_class TEXT NOT NULL, count BIGINT NOT NULL,
            PRIMARY KEY(hour, account, sending_domain, recipient_domain, site, kind, bounce_class))
        """,
    ]

    /// `pg_advisory_xact_lock` keys: concurrent `CREATE … IF NOT EXISTS` of two starting
    /// archivers can still collide in the catalogue, so the creation is serialised; the
    /// retention sweep runs on one archiver at a time (`pg_try_advisory_lock`).
    static let schemaLock: Int64 = 0x686B_6C6F_6773_0001
    static let retentionLock: Int64 = 0x686B_6C6F_6773_0002
}

/// A statement with positional parameters built piece by piece (`$1`, `$2`, …), for the
/// searches' optional conditions and the multi-row inserts.
struct SQLBuilder {
    var sql = ""
    var binds = PostgresBindings()

    init(_ sql: String = "") { self.sql = sql }

    /// Binds `value`; returns its placeholder.
    mutating func bind<Value: PostgresDynamicTypeEncodable>(_ value: Value) -> String {
        binds.append(value)
        return "$\(binds.count)"
    }

    mutating func bind<Value: PostgresDynamicTypeEncodable>(_ value: Value?) -> String {
        binds.append(value)
        return "$\(binds.count)"
    }

    var query: PostgresQuery { PostgresQuery(unsafeSQL: sql, binds: binds) }
}
