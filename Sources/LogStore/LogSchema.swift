import RelayCore

#if canImport(Glibc)
import Glibc
#endif

/// The store's tables. `events` holds one row per stream entry (metadata only, as on the
/// stream: never subject, body or display names); `stream_order` (`ms << 20 | seq`) orders
/// entries of the same millisecond, which the text id cannot (`…-10` sorts before `…-9`).
/// `event_recipients` lists the recipients of `accepted` events with more than one, so a
/// recipient search finds those too. `stats_hourly` is kept in the same transaction as the
/// inserts.
enum LogSchema {
    static let version = 1

    static let statements = """
        CREATE TABLE IF NOT EXISTS events(
            stream_id TEXT PRIMARY KEY, time_ms INTEGER NOT NULL, kind TEXT NOT NULL, account TEXT, queue_id TEXT,
            message_id TEXT, sender TEXT, recipient TEXT, recipient_domain TEXT, sending_domain TEXT, site TEXT,
            bounce_class TEXT, bounce_type TEXT, reply TEXT, remote_host TEXT, attempt INTEGER, json TEXT NOT NULL,
            stream_order INTEGER NOT NULL);
        CREATE INDEX IF NOT EXISTS events_recipient ON events(recipient);
        CREATE INDEX IF NOT EXISTS events_message_id ON events(message_id);
        CREATE INDEX IF NOT EXISTS events_queue_id ON events(queue_id);
        CREATE INDEX IF NOT EXISTS events_account_time ON events(account, time_ms);
        CREATE INDEX IF NOT EXISTS events_kind_time ON events(kind, time_ms);
        CREATE INDEX IF NOT EXISTS events_time ON events(time_ms, stream_order);
        CREATE TABLE IF NOT EXISTS event_recipients(
            stream_id TEXT NOT NULL, recipient TEXT NOT NULL, time_ms INTEGER NOT NULL, PRIMARY KEY(recipient, stream_id))
            WITHOUT ROWID;
        CREATE INDEX IF NOT EXISTS event_recipients_time ON event_recipients(time_ms);
        CREATE TABLE IF NOT EXISTS stats_hourly(
            hour INTEGER NOT NULL, account TEXT NOT NULL, sending_domain TEXT NOT NULL, recipient_domain TEXT NOT NULL,
            site TEXT NOT NULL, kind TEXT NOT NULL, bounce_class TEXT NOT NULL, count INTEGER NOT NULL,
            PRIMARY KEY(hour, account, sending_domain, recipient_domain, site, kind, bounce_class)) WITHOUT ROWID;
        PRAGMA user_version = 1;
        """

    /// The kinds counted in `stats_hourly` (per recipient): the rest (`purged`, `backoff`,
    /// `paused`, `resumed`) are not about a recipient's outcome.
    static let countedKinds: Set<DeliveryEvent.Kind> = [
        .accepted, .delivered, .deferred, .bounced, .expired, .complaint, .suppressed,
    ]
}

/// The columns of one event's row, derived from the event (SQLite's and PostgreSQL's alike).
package struct EventRow {
    package var streamID: String
    package var timeMS: Int64
    package var streamOrder: Int64
    package var recipient: String?
    /// `accepted` with several recipients: all of them (lowercased), for `event_recipients`.
    package var recipients: [String]
    package var recipientDomains: [String]
    package var sendingDomain: String
    package var messageID: String?
    package var sender: String?

    /// The `recipient_domain` column: the one domain, or empty.
    package var recipientDomain: String { recipientDomains.count == 1 ? recipientDomains[0] : "" }

    package init?(_ logged: LoggedEvent) {
        guard let order = EventRow.order(logged.streamID) else { return nil }
        let event = logged.event
        streamID = logged.streamID
        streamOrder = order
        timeMS = EventTime.milliseconds(event.time) ?? (order >> 20)
        let all = ((event.recipient.map { [$0] } ?? []) + (event.recipients ?? [])).map { $0.lowercased() }
        var seen = Set<String>()
        let unique = all.filter { seen.insert($0).inserted }
        recipient = unique.count == 1 ? unique[0] : nil
        recipients = unique.count > 1 ? unique : []
        recipientDomains = unique.isEmpty ? [event.domain?.rawValue.lowercased() ?? ""] : unique.map(EventRow.domain(of:))
        sendingDomain = EventRow.domain(of: event.sender.lowercased())
        messageID = event.messageID.map(EventRow.bareMessageID)
        sender = event.sender.isEmpty ? nil : event.sender.lowercased()
    }

    /// `<ms>-<seq>` as `ms << 20 | seq`: orders the stream's ids as integers.
    package static func order(_ streamID: String) -> Int64? {
        let parts = streamID.split(separator: "-")
        guard parts.count == 2, let ms = Int64(parts[0]), let seq = Int64(parts[1]), ms >= 0, seq >= 0, ms < (1 << 42) else { return nil }
        return ms << 20 | min(seq, (1 << 20) - 1)
    }

    static func domain(of address: String) -> String {
        guard let at = address.lastIndex(of: "@") else { return "" }
        return String(address[address.index(after: at)...])
    }

    package static func bareMessageID(_ id: String) -> String {
        var text = Substring(id)
        while text.first == "<" || text.first == " " { text.removeFirst() }
        while text.last == ">" || text.last == " " { text.removeLast() }
        return String(text)
    }
}

/// Event times (`2026-11-29T01:02:03.456Z`, RFC 3339) to milliseconds since 1970.
enum EventTime {
    static func milliseconds(_ text: String) -> Int64? {
        let bytes = Array(text.utf8)
        guard bytes.count >= 20, bytes[4] == UInt8(ascii: "-"), bytes[7] == UInt8(ascii: "-"), bytes[10] | 0x20 == UInt8(ascii: "t")
        else { return nil }
        func number(_ from: Int, _ count: Int) -> Int? {
            guard from + count <= bytes.count else { return nil }
            var value = 0
            for byte in bytes[from..<from + count] {
                guard byte >= 0x30 && byte <= 0x39 else { return nil }
                value = value * 10 + Int(byte - 0x30)
            }
            return value
        }
        guard let year = number(0, 4), let month = number(5, 2), let day = number(8, 2), let hour = number(11, 2),
            let minute = number(14, 2), let second = number(17, 2)
        else { return nil }
        var index = 19
        var millis = 0
        if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
            index += 1
            var digits = 0
            while index < bytes.count, bytes[index] >= 0x30 && bytes[index] <= 0x39 {
                if digits < 3 { millis = millis * 10 + Int(bytes[index] - 0x30) }
                digits += 1
                index += 1
            }
            for _ in min(digits, 3)..<3 { millis *= 10 }
        }
        var offset = 0
        if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") {
            guard let h = number(index + 1, 2), let m = number(index + 4, 2) else { return nil }
            offset = (h * 60 + m) * 60 * (bytes[index] == UInt8(ascii: "+") ? 1 : -1)
        }
        var parts = tm()
        parts.tm_year = Int32(year - 1900)
        parts.tm_mon = Int32(month - 1)
        parts.tm_mday = Int32(day)
        parts.tm_hour = Int32(hour)
        parts.tm_min = Int32(minute)
        parts.tm_sec = Int32(second)
        let seconds = Int64(timegm(&parts)) - Int64(offset)
        return seconds * 1000 + Int64(millis)
    }
}

/// RFC 3339 times for callers (the command line's `--since`): ms since 1970, or nil.
public enum LogTime {
    public static func milliseconds(_ text: String) -> Int64? { EventTime.milliseconds(text) }
}
