import LogStore
import RelayCore

/// A ``LogQuery`` applied to one event, and ``StatsRow``s counted from events: what a
/// reader without indexes does (``StreamLogReader``, the tests' in-memory reader). The
/// SQLite store answers the same questions with SQL.
extension LogQuery {
    public func matches(_ logged: LoggedEvent) -> Bool {
        let e = logged.event
        if let account, e.account != account { return false }
        if !kinds.isEmpty, !kinds.contains(e.event) { return false }
        if let queueID, e.queueID != queueID { return false }
        if let messageID, e.messageID != messageID { return false }
        if let recipient {
            guard e.recipient?.lowercased() == recipient || (e.recipients ?? []).contains(where: { $0.lowercased() == recipient }) else {
                return false
            }
        }
        if let bounceClass, e.bounceClass != bounceClass { return false }
        if let site, e.site?.rawValue != site { return false }
        if since != nil || until != nil {
            guard let time = EventTime.milliseconds(iso8601: e.time) else { return false }
            if let since, time < since { return false }
            if let until, time >= until { return false }
        }
        return true
    }
}

public enum StatsCounting {
    /// Events → rows per hour × account × sending domain × recipient domain × site; `hour`
    /// is the hour's start in ms, as ``StatsRow`` (and the SQLite store) has it.
    public static func rows(_ events: some Sequence<LoggedEvent>, _ query: StatsQuery) -> [StatsRow] {
        var rows: [StatsKey: StatsRow] = [:]
        for logged in events {
            let e = logged.event
            guard let time = EventTime.milliseconds(iso8601: e.time), time >= query.since, time < query.until else { continue }
            if let account = query.account, e.account != account { continue }
            let recipientDomain = e.domain?.rawValue ?? e.recipient.flatMap { $0.split(separator: "@").last.map(String.init) } ?? ""
            let sendingDomain = e.sender.split(separator: "@").last.map(String.init) ?? ""
            let key = StatsKey(
                hour: time / 3_600_000 * 3_600_000, account: e.account ?? "", sending: sendingDomain, recipient: recipientDomain,
                site: query.bySite ? e.site?.rawValue ?? "" : "")
            var row =
                rows[key]
                ?? StatsRow(
                    hour: key.hour, account: key.account, sendingDomain: key.sending, recipientDomain: key.recipient, site: key.site)
            let count = max(1, e.recipients?.count ?? 1)
            switch e.event {
            case .accepted: row.accepted += count
            case .delivered: row.delivered += 1
            case .deferred: row.deferred += 1
            case .bounced:
                row.bounced += 1
                if let c = e.bounceClass { row.bouncedByClass[c, default: 0] += 1 }
            case .expired: row.expired += 1
            case .complaint: row.complaints += 1
            case .suppressed: row.suppressed += 1
            default: continue
            }
            rows[key] = row
        }
        return rows.values.sorted { $0.hour < $1.hour }
    }
}

private struct StatsKey: Hashable {
    var hour: Int64, account: String, sending: String, recipient: String, site: String
}
