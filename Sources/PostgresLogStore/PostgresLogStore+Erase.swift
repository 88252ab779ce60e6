import Foundation
import LogStore
import PostgresNIO
import RelayCore

extension PostgresLogStore {
    /// One person's address out of the store, as ``SQLiteLogStore/erase(address:)`` does:
    /// the events stay (the counts still equal a recount), the address leaves their columns
    /// and JSON. The rows are locked (`FOR UPDATE`) so an archiver cannot change them meanwhile.
    public func eraseAddress(_ address: String) async throws -> Int {
        let needle = address.lowercased()
        guard !needle.isEmpty else { return 0 }
        return try await perform {
            try await client.withTransaction(logger: logger) { connection in
                var found: [(String, String)] = []
                let result = try await connection.query(
                    """
                    SELECT stream_id, json FROM events WHERE recipient = \(needle) OR sender = \(needle)
                        OR stream_id IN (SELECT stream_id FROM event_recipients WHERE recipient = \(needle))
                    ORDER BY stream_id FOR UPDATE
                    """, logger: logger)
                for try await row in result.decode((String, String).self) { found.append(row) }
                for (id, json) in found {
                    guard var event = try? DeliveryEvent(json: json) else { continue }
                    LogErasure.scrub(&event, needle)
                    let scrubbed = String(decoding: event.jsonBytes(), as: UTF8.self)
                    try await connection.query(
                        """
                        UPDATE events SET json = \(scrubbed), reply = \(event.reply),
                            sender = CASE WHEN sender = \(needle) THEN NULL ELSE sender END,
                            recipient = CASE WHEN recipient = \(needle) THEN NULL ELSE recipient END
                        WHERE stream_id = \(id)
                        """, logger: logger)
                }
                try await connection.query("DELETE FROM event_recipients WHERE recipient = \(needle)", logger: logger)
                return found.count
            }
        }
    }
}
