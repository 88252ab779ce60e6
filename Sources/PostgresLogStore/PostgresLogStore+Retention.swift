import Logging
import PostgresNIO

extension PostgresLogStore {
    /// Deletes in batches of 2000 rows, on one archiver at a time: the others find the
    /// advisory lock taken and return 0.
    public func deleteExpired(before cutoff: Int64, statsBefore statsCutoff: Int64) async throws -> Int {
        try await perform {
            try await client.withConnection { connection in
                let locked = try await connection.query("SELECT pg_try_advisory_lock(\(PostgresSchema.retentionLock))", logger: logger)
                    .decode(Bool.self).first { _ in true }
                guard locked == true else { return 0 }
                do {
                    let total = try await Self.sweep(connection, cutoff: cutoff, statsCutoff: statsCutoff, logger: logger)
                    try await connection.query("SELECT pg_advisory_unlock(\(PostgresSchema.retentionLock))", logger: logger)
                    return total
                } catch {
                    _ = try? await connection.query("SELECT pg_advisory_unlock(\(PostgresSchema.retentionLock))", logger: logger)
                    throw error
                }
            }
        }
    }

    static func sweep(_ connection: PostgresConnection, cutoff: Int64, statsCutoff: Int64, logger: Logger) async throws -> Int {
        let batch: Int64 = 2000
        var total = 0
        while true {
            let events = try await count(
                connection,
                """
                WITH gone AS (DELETE FROM events WHERE stream_id IN
                    (SELECT stream_id FROM events WHERE time_ms < \(cutoff) ORDER BY time_ms LIMIT \(batch)) RETURNING 1)
                SELECT count(*) FROM gone
                """, logger: logger)
            let recipients = try await count(
                connection,
                """
                WITH gone AS (DELETE FROM event_recipients WHERE (recipient, stream_id) IN
                    (SELECT recipient, stream_id FROM event_recipients WHERE time_ms < \(cutoff) LIMIT \(batch)) RETURNING 1)
                SELECT count(*) FROM gone
                """, logger: logger)
            total += events
            if events < batch && recipients < batch { break }
        }
        try await connection.query("DELETE FROM stats_hourly WHERE hour < \(statsCutoff)", logger: logger)
        return total
    }

    static func count(_ connection: PostgresConnection, _ query: PostgresQuery, logger: Logger) async throws -> Int {
        var value: Int64 = 0
        for try await count in try await connection.query(query, logger: logger).decode(Int64.self) { value = count }
        return Int(value)
    }
}
