import Foundation
import LogStore
import RelayCore

/// The log search form's fields (also the CSV link's query string) and the ``LogQuery`` they
/// ask for. Times are `datetime-local` values (`2025-01-31T09:05`) in the viewer's zone.
public struct SearchForm: Sendable, Equatable {
    public var fields: [String: String]

    public static let names = ["recipient", "message_id", "queue_id", "account", "status", "class", "site", "since", "until"]

    public init(query: String?) {
        let all = FormData.parse(query)
        var kept: [String: String] = [:]
        for name in Self.names + ["before"] {
            if let value = all[name]?.trimmingCharacters(in: .whitespaces), !value.isEmpty { kept[name] = String(value.prefix(320)) }
        }
        fields = kept
    }

    /// Whether anything was asked (an empty form shows no results).
    public var isEmpty: Bool { fields.isEmpty }

    /// The query, before scoping to the viewer (``ConsoleViewer/scope(_:)`` does that).
    public func query(timeZone: TimeZone, limit: Int) -> LogQuery {
        var query = LogQuery()
        query.account = fields["account"]
        query.recipient = fields["recipient"]?.lowercased()
        query.messageID = fields["message_id"]
        query.queueID = fields["queue_id"]
        if let status = fields["status"], let kind = DeliveryEvent.Kind(rawValue: status) { query.kinds = [kind] }
        query.bounceClass = fields["class"].flatMap(BounceClass.init(rawValue:))
        query.site = fields["site"]?.lowercased()
        query.since = fields["since"].flatMap { Self.milliseconds(localDateTime: $0, in: timeZone) }
        query.until = fields["until"].flatMap { Self.milliseconds(localDateTime: $0, in: timeZone) }
        query.before = fields["before"]
        query.limit = limit
        return query
    }

    /// The fields as a query string (without `before`), for links.
    public func queryString(before: String? = nil) -> String {
        var pairs = Self.names.compactMap { name in fields[name].map { "\(name)=\(FormData.encode($0))" } }
        if let before { pairs.append("before=\(FormData.encode(before))") }
        return pairs.joined(separator: "&")
    }

    /// `YYYY-MM-DDTHH:MM[:SS]` in `zone` → ms since 1970; nil when malformed.
    public static func milliseconds(localDateTime text: String, in zone: TimeZone) -> Int64? {
        let parts = text.split(whereSeparator: { "-T:".contains($0) }).map { Int64($0) }
        guard parts.count == 5 || parts.count == 6, parts.allSatisfy({ $0 != nil }) else { return nil }
        let v = parts.map { $0! }
        guard (1...12).contains(v[1]), (1...31).contains(v[2]), (0...23).contains(v[3]), (0...59).contains(v[4]) else { return nil }
        let local = days(year: v[0], month: v[1], day: v[2]) * 86_400 + v[3] * 3600 + v[4] * 60 + (v.count == 6 ? v[5] : 0)
        // The zone's offset at that moment (close enough across a DST change: off by its size at most).
        let offset = Int64(zone.secondsFromGMT(for: Date(timeIntervalSince1970: TimeInterval(local))))
        return (local - offset) * 1000
    }

    /// (year, month, day) → days since 1970 (Howard Hinnant's `days_from_civil`).
    static func days(year: Int64, month: Int64, day: Int64) -> Int64 {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let doy = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }
}

/// One CSV file of events (RFC 4180: CRLF, fields quoted when needed), opened with a UTF-8
/// BOM so that Excel reads Japanese correctly. A cell that starts with `=`, `+`, `-` or `@`
/// gets a leading `'` so that a spreadsheet never runs it as a formula (CSV injection):
/// recipients and remote replies come from outside.
public enum EventCSV {
    public static let bom: [UInt8] = [0xEF, 0xBB, 0xBF]
    public static let header = [
        "time", "event", "account", "queue_id", "message_id", "sender", "recipient", "site", "bounce_class", "bounce_type",
        "remote_host", "attempt", "reply",
    ]

    public static func line(_ cells: [String]) -> String {
        cells.map(cell).joined(separator: ",") + "\r\n"
    }

    public static func row(_ logged: LoggedEvent) -> [String] {
        let e = logged.event
        return [
            e.time, e.event.rawValue, e.account ?? "", e.queueID, e.messageID ?? "", e.sender, e.recipient ?? "", e.site?.rawValue ?? "",
            e.bounceClass?.rawValue ?? "", e.bounceType?.rawValue ?? "", e.remoteHost ?? "", e.attempt.map(String.init) ?? "",
            e.reply ?? "",
        ]
    }

    static func cell(_ value: String) -> String {
        var value = value
        if let first = value.first, "=+-@\t\r".contains(first) { value = "'" + value }
        guard value.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return value }
        return "\"" + value.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}
