import Dispatch
import RelayCore
import Synchronization

/// The log store in one SQLite file (the C API): one writer connection (the archiver's
/// appends, retention, erasure) and a small pool of read connections, which in WAL mode
/// read a consistent snapshot while the writer writes. Queries run on a dispatch queue so
/// they never block Swift's cooperative threads or an event loop.
///
/// Backups: `sqlite3 logs.sqlite ".backup logs-copy.sqlite"` (the online backup API) while
/// the archiver runs; a copy of the file alone is not safe in WAL mode.
public final class SQLiteLogStore: LogReader {
    public let path: String
    private let writer: Mutex<SQLiteConnection>
    private let readers: Mutex<[SQLiteConnection]>
    private static let work = DispatchQueue(label: "hikyaku.logstore", attributes: .concurrent)
    /// Read connections kept open between queries.
    static let poolSize = 4

    public init(path: String) throws {
        self.path = path
        let connection = try SQLiteConnection(path: path)
        try connection.execute(LogSchema.statements)
        writer = Mutex(connection)
        readers = Mutex([])
    }

    /// Runs `body` on the store's dispatch queue (SQLite calls block): for callers of the
    /// synchronous methods (``append(_:)``, ``deleteOlder(than:statsOlderThan:batch:)``, ``erase(address:)``).
    public static func offThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            work.async { continuation.resume(with: Result { try body() }) }
        }
    }

    func withWriter<T: Sendable>(_ body: (SQLiteConnection) throws -> T) throws -> T {
        try writer.withLock { try body($0) }
    }

    func withReader<T: Sendable>(_ body: (SQLiteConnection) throws -> T) throws -> T {
        let connection = try readers.withLock { $0.popLast() } ?? SQLiteConnection(path: path)
        defer {
            readers.withLock { pool in
                if pool.count < Self.poolSize { pool.append(connection) }
            }
        }
        return try body(connection)
    }

    // MARK: Appending

    /// Stores `events` in one transaction: a stream id already stored is skipped
    /// (`INSERT OR IGNORE`), and only the rows actually inserted are counted in
    /// `stats_hourly` — so a batch replayed after a crash changes nothing. Returns how many
    /// were new.
    @discardableResult
    public func append(_ events: [LoggedEvent]) throws -> Int {
        guard !events.isEmpty else { return 0 }
        return try withWriter { db in
            try db.transaction {
                let insert = try db.prepare(
                    """
                    INSERT OR IGNORE INTO events(stream_id, time_ms, kind, account, queue_id, message_id, sender, recipient,
                        recipient_domain, sending_domain, site, bounce_class, bounce_type, reply, remote_host, attempt, json, stream_order)
                    VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)
                    """)
                let insertRecipient = try db.prepare(
                    "INSERT OR IGNORE INTO event_recipients(stream_id, recipient, time_ms) VALUES(?,?,?)")
                var counts: [StatsKey: Int64] = [:]
                var inserted = 0
                for logged in events {
                    guard let row = EventRow(logged) else { continue }
                    let event = logged.event
                    try insert.run([
                        .text(row.streamID), .integer(row.timeMS), .text(event.event.rawValue), .optional(event.account),
                        .text(event.queueID), .optional(row.messageID), .optional(row.sender), .optional(row.recipient),
                        .text(row.recipientDomain), .text(row.sendingDomain),
                        .optional(event.site?.rawValue), .optional(event.bounceClass?.rawValue), .optional(event.bounceType?.rawValue),
                        .optional(event.reply), .optional(event.remoteHost), .optional(event.attempt),
                        .text(String(decoding: event.jsonBytes(), as: UTF8.self)), .integer(row.streamOrder),
                    ])
                    guard db.changes == 1 else { continue }
                    inserted += 1
                    for recipient in row.recipients {
                        try insertRecipient.run([.text(row.streamID), .text(recipient), .integer(row.timeMS)])
                    }
                    for key in StatsKey.keys(of: row, event) { counts[key, default: 0] += 1 }
                }
                let upsert = try db.prepare(
                    """
                    INSERT INTO stats_hourly(hour, account, sending_domain, recipient_domain, site, kind, bounce_class, count)
                    VALUES(?,?,?,?,?,?,?,?)
                    ON CONFLICT(hour, account, sending_domain, recipient_domain, site, kind, bounce_class)
                    DO UPDATE SET count = count + excluded.count
                    """)
                for (key, count) in counts {
                    try upsert.run([
                        .integer(key.hour), .text(key.account), .text(key.sendingDomain), .text(key.recipientDomain), .text(key.site),
                        .text(key.kind), .text(key.bounceClass), .integer(count),
                    ])
                }
                return inserted
            }
        }
    }

    // MARK: Retention

    /// Deletes events older than `cutoff` (ms), `batch` rows per transaction so the writer
    /// never holds the file for long; hourly counts older than `statsCutoff`. Returns the
    /// events deleted.
    @discardableResult
    public func deleteOlder(than cutoff: Int64, statsOlderThan statsCutoff: Int64? = nil, batch: Int = 2000) throws -> Int {
        var total = 0
        while true {
            let deleted = try withWriter { db in
                try db.transaction { () throws -> (Int, Int) in
                    try db.prepare(
                        "DELETE FROM events WHERE rowid IN (SELECT rowid FROM events WHERE time_ms < ? ORDER BY time_ms LIMIT ?)"
                    ).run([.integer(cutoff), .integer(Int64(batch))])
                    let count = db.changes
                    try db.prepare(
                        """
                        DELETE FROM event_recipients WHERE (recipient, stream_id) IN
                            (SELECT recipient, stream_id FROM event_recipients WHERE time_ms < ? LIMIT ?)
                        """
                    ).run([.integer(cutoff), .integer(Int64(batch))])
                    return (count, db.changes)
                }
            }
            total += deleted.0
            if deleted.0 < batch && deleted.1 < batch { break }
        }
        if let statsCutoff {
            try withWriter { db in try db.prepare("DELETE FROM stats_hourly WHERE hour < ?").run([.integer(statsCutoff)]) }
        }
        return total
    }
}
