import Foundation
import RelayCore

extension SQLiteLogStore {
    /// What an address is replaced with in erased events.
    public static let erasedAddress = LogErasure.erasedAddress

    /// Removes one person's address from the store (APPI / GDPR erasure): in every event it
    /// is the sender or a recipient of, the `sender`/`recipient` columns are cleared and the
    /// stored JSON has the address replaced by ``LogErasure/erasedAddress`` — in `sender`, `recipient`,
    /// `recipients`, `auth_user` and wherever a remote reply, tag or metadata value quotes
    /// it. The events themselves stay (with their domains, kinds and times), so the hourly
    /// counts still equal a recount. Returns the number of events changed. Suppression
    /// lists are Redis's and are not touched here.
    ///
    /// Finding events by sender scans the table (there is no sender index: erasure is rare).
    @discardableResult
    public func erase(address: String) throws -> Int {
        let needle = address.lowercased()
        guard !needle.isEmpty else { return 0 }
        return try withWriter { db in
            try db.transaction {
                var found: [(String, String)] = []
                try db.prepare(
                    """
                    SELECT stream_id, json FROM events WHERE recipient = ?1 OR sender = ?1
                        OR stream_id IN (SELECT stream_id FROM event_recipients WHERE recipient = ?1)
                    """
                ).query([.text(needle)]) { row in
                    if let id = row.text(0), let json = row.text(1) { found.append((id, json)) }
                }
                let update = try db.prepare(
                    """
                    UPDATE events SET json = ?, reply = ?,
                        sender = CASE WHEN sender = ?3 THEN NULL ELSE sender END,
                        recipient = CASE WHEN recipient = ?3 THEN NULL ELSE recipient END
                    WHERE stream_id = ?4
                    """)
                for (id, json) in found {
                    guard var event = try? DeliveryEvent(json: json) else { continue }
                    LogErasure.scrub(&event, needle)
                    try update.run([
                        .text(String(decoding: event.jsonBytes(), as: UTF8.self)), .optional(event.reply), .text(needle), .text(id),
                    ])
                }
                try db.prepare("DELETE FROM event_recipients WHERE recipient = ?").run([.text(needle)])
                return found.count
            }
        }
    }
}

/// The rewriting of one event for an erasure, shared by the stores.
package enum LogErasure {
    /// What an address is replaced with in erased events.
    package static let erasedAddress = "[erased]"

    package static func scrub(_ event: inout DeliveryEvent, _ needle: String) {
        func clean(_ text: String) -> String { Self.replacing(needle, in: text) }
        if event.sender.lowercased() == needle { event.sender = erasedAddress }
        if event.recipient?.lowercased() == needle { event.recipient = erasedAddress }
        event.recipients = event.recipients?.map { $0.lowercased() == needle ? erasedAddress : $0 }
        event.authUser = event.authUser.map(clean)
        event.reply = event.reply.map(clean)
        event.tags = event.tags?.map(clean)
        event.metadata = event.metadata?.mapValues(clean)
    }

    /// `text` with every case-insensitive occurrence of `needle` (lowercase) replaced.
    package static func replacing(_ needle: String, in text: String) -> String {
        let lower = text.lowercased()
        guard lower.count == text.count, lower.contains(needle) else { return text }
        var out = ""
        var index = text.startIndex
        var lowerIndex = lower.startIndex
        while index < text.endIndex {
            if lower[lowerIndex...].hasPrefix(needle) {
                out += erasedAddress
                index = text.index(index, offsetBy: needle.count)
                lowerIndex = lower.index(lowerIndex, offsetBy: needle.count)
            } else {
                out.append(text[index])
                index = text.index(after: index)
                lowerIndex = lower.index(after: lowerIndex)
            }
        }
        return out
    }
}
