import LogStore
import Logging
import NIOSSL
import PostgresNIO
import RelayCore
import ServiceLifecycle
import Synchronization

/// The log store in PostgreSQL (`logs.postgres_url`): SQLite's tables, searches and
/// semantics (``SQLiteLogStore``) on a server that any number of archivers write and any
/// number of consoles read. A `Service`: its connection pool runs in ``run()``.
///
/// Appends that a replay cannot double: one statement per batch
/// ```
/// INSERT INTO events(…) VALUES (…), (…) ON CONFLICT (stream_id) DO NOTHING RETURNING stream_id
/// INSERT INTO stats_hourly(…) VALUES (…) ON CONFLICT (…) DO UPDATE SET count = stats_hourly.count + excluded.count
/// ```
/// in one transaction, the counts only for the ids returned (the rows actually inserted).
/// Rows and counts go in key order, so two archivers' transactions lock in the same order
/// and cannot deadlock.
///
/// Backups: `pg_dump --format=custom` while archivers run (a consistent snapshot).
public final class PostgresLogStore: LogReader, LogWriter, Service {
    let client: PostgresClient
    let url: PostgresURL
    /// The password in use (the file's or the URL's), to keep it out of error messages.
    private let password: String?
    let logger: Logger
    private let schema = Mutex<Task<Void, any Error>?>(nil)
    /// Rows per multi-row `INSERT` (18 parameters each: PostgreSQL takes at most 65535).
    static let insertChunk = 1000

    /// `password`: from `logs.postgres_password_file`, else the URL's.
    public init(url: PostgresURL, password: String?, logger: Logger) {
        self.url = url
        self.password = password ?? url.password
        self.logger = logger
        var configuration = PostgresClient.Configuration(
            host: url.host, port: url.port, username: url.user, password: password ?? url.password, database: url.database,
            tls: Self.tls(url.sslMode))
        configuration.options.maximumConnections = 8
        configuration.options.connectTimeout = .seconds(5)
        client = PostgresClient(configuration: configuration, backgroundLogger: logger)
    }

    static func tls(_ mode: PostgresURL.SSLMode) -> PostgresClient.Configuration.TLS {
        var unverified = TLSConfiguration.makeClientConfiguration()
        unverified.certificateVerification = .none
        switch mode {
        case .disable: return .disable
        case .prefer: return .prefer(unverified)
        case .require: return .require(unverified)
        case .verifyFull: return .require(.makeClientConfiguration())
        }
    }

    public var location: String { url.redacted }

    /// Runs the connection pool until cancelled or a graceful shutdown.
    public func run() async {
        await client.run()
    }

    /// Runs `body` with the pool running (for commands, which have no service group).
    public static func withStore<T: Sendable>(
        url: PostgresURL, password: String?, logger: Logger, _ body: @Sendable (PostgresLogStore) async throws -> T
    ) async throws -> T {
        let store = PostgresLogStore(url: url, password: password, logger: logger)
        return try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask {
                await store.run()
                return nil
            }
            do {
                let value = try await body(store)
                group.cancelAll()
                return value
            } catch {
                group.cancelAll()
                throw error
            }
        }
    }

    /// How long the first use waits for the server: PostgresNIO's pool keeps retrying an
    /// unreachable one, and a command or a console page must fail rather than hang.
    static let connectWait: Duration = .seconds(10)

    struct Timeout: Error, CustomStringConvertible {
        var description: String { "no connection within \(PostgresLogStore.connectWait)" }
    }

    static func withTimeout<T: Sendable>(_ limit: Duration, _ body: @escaping @Sendable () async throws -> T) async throws -> T {
        try await withThrowingTaskGroup(of: T.self) { group in
            group.addTask { try await body() }
            group.addTask {
                try await Task.sleep(for: limit)
                throw Timeout()
            }
            defer { group.cancelAll() }
            return try await group.next()!
        }
    }

    /// Creates the tables on first use (and again after a failed attempt).
    func ready() async throws {
        let task = schema.withLock { current -> Task<Void, any Error> in
            if let current { return current }
            let created = Task { try await Self.withTimeout(Self.connectWait) { try await self.createSchema() } }
            current = created
            return created
        }
        do { try await task.value } catch {
            schema.withLock { current in if current == task { current = nil } }
            // The pool only says it got no connection: one connection of our own says why
            // (refused, authentication, no such database).
            if error is Timeout, let reason = await connectionFailure() { throw PostgresStoreError(reason, url: url, password: password) }
            throw PostgresStoreError(error, url: url, password: password)
        }
    }

    /// Why a connection of its own fails (nil: it does not).
    private func connectionFailure() async -> (any Error)? {
        let tls: PostgresConnection.Configuration.TLS
        do {
            switch url.sslMode {
            case .disable: tls = .disable
            case .prefer, .require:
                var unverified = TLSConfiguration.makeClientConfiguration()
                unverified.certificateVerification = .none
                let context = try NIOSSLContext(configuration: unverified)
                tls = url.sslMode == .prefer ? .prefer(context) : .require(context)
            case .verifyFull: tls = .require(try NIOSSLContext(configuration: .makeClientConfiguration()))
            }
        } catch { return error }
        var configuration = PostgresConnection.Configuration(
            host: url.host, port: url.port, username: url.user, password: password, database: url.database, tls: tls)
        configuration.options.connectTimeout = .seconds(5)
        do {
            let connection = try await PostgresConnection.connect(configuration: configuration, id: 0, logger: logger)
            try? await connection.close()
            return nil
        } catch { return error }
    }

    private func createSchema() async throws {
        try await client.withTransaction(logger: logger) { connection in
            try await connection.query("SELECT pg_advisory_xact_lock(\(PostgresSchema.schemaLock))", logger: logger)
            for statement in PostgresSchema.statements {
                try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger)
            }
        }
    }

    /// `body` with errors described without the password (``PostgresStoreError``).
    func perform<T>(_ body: () async throws -> T) async throws -> T {
        try await ready()
        do { return try await body() } catch { throw PostgresStoreError(error, url: url, password: password) }
    }

    // MARK: Appending

    public func appendEvents(_ events: [LoggedEvent]) async throws -> Int {
        let rows = events.compactMap { logged in EventRow(logged).map { (row: $0, event: logged.event) } }
            .sorted { $0.row.streamID < $1.row.streamID }
        guard !rows.isEmpty else { return 0 }
        return try await perform {
            try await client.withTransaction(logger: logger) { connection in
                var inserted = Set<String>()
                for start in stride(from: 0, to: rows.count, by: Self.insertChunk) {
                    let chunk = rows[start..<min(start + Self.insertChunk, rows.count)]
                    let result = try await connection.query(Self.insertEvents(chunk), logger: logger)
                    for try await id in result.decode(String.self) { inserted.insert(id) }
                }
                var counts: [StatsKey: Int64] = [:]
                var recipients: [(streamID: String, recipient: String, time: Int64)] = []
                for (row, event) in rows where inserted.contains(row.streamID) {
                    for recipient in row.recipients { recipients.append((row.streamID, recipient, row.timeMS)) }
                    for key in StatsKey.keys(of: row, event) { counts[key, default: 0] += 1 }
                }
                for start in stride(from: 0, to: recipients.count, by: Self.insertChunk) {
                    var builder = SQLBuilder("INSERT INTO event_recipients(stream_id, recipient, time_ms) VALUES ")
                    for (index, item) in recipients[start..<min(start + Self.insertChunk, recipients.count)].enumerated() {
                        builder.sql +=
                            (index == 0 ? "" : ", ")
                            + "(\(builder.bind(item.streamID)), \(builder.bind(item.recipient)), \(builder.bind(item.time)))"
                    }
                    builder.sql += " ON CONFLICT DO NOTHING"
                    try await connection.query(builder.query, logger: logger)
                }
                let keys = counts.keys.sorted()
                for start in stride(from: 0, to: keys.count, by: Self.insertChunk) {
                    var builder = SQLBuilder(
                        "INSERT INTO stats_hourly(hour, account, sending_domain, recipient_domain, site, kind, bounce_class, count) VALUES "
                    )
                    for (index, key) in keys[start..<min(start + Self.insertChunk, keys.count)].enumerated() {
                        let values = [
                            builder.bind(key.hour), builder.bind(key.account), builder.bind(key.sendingDomain),
                            builder.bind(key.recipientDomain), builder.bind(key.site), builder.bind(key.kind),
                            builder.bind(key.bounceClass),
                            builder.bind(counts[key] ?? 0),
                        ]
                        builder.sql += (index == 0 ? "(" : ", (") + values.joined(separator: ", ") + ")"
                    }
                    builder.sql += """
                         ON CONFLICT (hour, account, sending_domain, recipient_domain, site, kind, bounce_class)
                        DO UPDATE SET count = stats_hourly.count + excluded.count
                        """
                    try await connection.query(builder.query, logger: logger)
                }
                return inserted.count
            }
        }
    }

    static func insertEvents(_ rows: ArraySlice<(row: EventRow, event: DeliveryEvent)>) -> PostgresQuery {
        var builder = SQLBuilder(
            """
            INSERT INTO events(stream_id, time_ms, kind, account, queue_id, message_id, sender, recipient, recipient_domain,
                sending_domain, site, bounce_class, bounce_type, reply, remote_host, attempt, json, stream_order) VALUES
            """)
        for (index, (row, event)) in rows.enumerated() {
            let values = [
                builder.bind(row.streamID), builder.bind(row.timeMS), builder.bind(event.event.rawValue), builder.bind(event.account),
                builder.bind(event.queueID), builder.bind(row.messageID), builder.bind(row.sender), builder.bind(row.recipient),
                builder.bind(row.recipientDomain), builder.bind(row.sendingDomain), builder.bind(event.site?.rawValue),
                builder.bind(event.bounceClass?.rawValue), builder.bind(event.bounceType?.rawValue), builder.bind(event.reply),
                builder.bind(event.remoteHost), builder.bind(event.attempt.map(Int64.init)),
                builder.bind(String(decoding: event.jsonBytes(), as: UTF8.self)), builder.bind(row.streamOrder),
            ]
            builder.sql += (index == 0 ? " (" : ", (") + values.joined(separator: ", ") + ")"
        }
        builder.sql += " ON CONFLICT (stream_id) DO NOTHING RETURNING stream_id"
        return builder.query
    }
}
