import Foundation
import RelayCore

extension SQLiteLogStore {
    public func search(_ query: LogQuery) async throws -> [LoggedEvent] {
        try await Self.offThread { try self.withReader { try Self.page($0, query, limit: query.limit) } }
    }

    public func timeline(queueID: String, account: String?) async throws -> [LoggedEvent] {
        try await Self.offThread {
            try self.withReader { db in
                var sql = "SELECT stream_id, json FROM events WHERE queue_id = ?"
                var values: [SQLiteValue] = [.text(queueID)]
                if let account {
                    sql += " AND account = ?"
                    values.append(.text(account))
                }
                return try Self.rows(db, sql + " ORDER BY time_ms, stream_order", values)
            }
        }
    }

    public func export(_ query: LogQuery, into sink: (LoggedEvent) async throws -> Void) async throws {
        var page = query
        page.before = nil
        while true {
            let current = page
            let events = try await Self.offThread { try self.withReader { try Self.page($0, current, limit: 1000) } }
            for event in events { try await sink(event) }
            guard events.count == 1000, let last = events.last else { return }
            page.before = last.streamID
        }
    }

    public func stats(_ query: StatsQuery) async throws -> [StatsRow] {
        try await Self.offThread {
            try self.withReader { db in
                var sql = """
                    SELECT hour, \(query.byAccountAndDomain ? "account, sending_domain, recipient_domain" : "'', '', ''"),
                        \(query.bySite ? "site" : "''"), kind, bounce_class, SUM(count)
                    FROM stats_hourly WHERE hour >= ? AND hour < ?
                    """
                var values: [SQLiteValue] = [.integer(query.since / 3_600_000 * 3_600_000), .integer(query.until)]
                if let account = query.account {
                    sql += " AND account = ?"
                    values.append(.text(account))
                }
                sql += " GROUP BY 1, 2, 3, 4, 5, 6, 7 ORDER BY 1, 2, 3, 4, 5"
                var folder = StatsFolder()
                try db.prepare(sql).query(values) { row in
                    folder.add(
                        hour: row.int(0), account: row.text(1) ?? "", sendingDomain: row.text(2) ?? "", recipientDomain: row.text(3) ?? "",
                        site: row.text(4) ?? "", kind: row.text(5) ?? "", bounceClass: row.text(6) ?? "", count: Int(row.int(7)))
                }
                return folder.rows
            }
        }
    }

    /// One page of `query`, newest first: `(time_ms, stream_order)` descending, after the
    /// cursor's position.
    static func page(_ db: SQLiteConnection, _ query: LogQuery, limit: Int) throws -> [LoggedEvent] {
        let (sql, values) = try pageSQL(db, query, limit: limit)
        return try rows(db, sql, values)
    }

    /// The statement of ``page(_:_:limit:)`` and its parameters.
    static func pageSQL(_ db: SQLiteConnection, _ query: LogQuery, limit: Int) throws -> (String, [SQLiteValue]) {
        var conditions: [String] = []
        var values: [SQLiteValue] = []
        // With a recipient, message id or queue id (a handful of rows, found by their own
        // index) the other terms are filters: the unary `+` keeps SQLite from walking
        // `events_account_time` through an account's millions of rows instead, which it
        // prefers without statistics because that index also gives the order (52 s against
        // under 1 ms on 50 million events, `make logstore-bench`).
        let selective = query.recipient != nil || query.messageID != nil || query.queueID != nil
        let filter = selective ? "+" : ""
        // An account's events of some kinds: walk the account's rows newest first and stop
        // at `limit`, rather than collect every event of those kinds of every account and sort.
        let kindFilter = selective || query.account != nil ? "+" : ""
        if let account = query.account {
            conditions.append("\(filter)account = ?")
            values.append(.text(account))
        }
        if let recipient = query.recipient?.lowercased() {
            conditions.append("(recipient = ? OR stream_id IN (SELECT stream_id FROM event_recipients WHERE recipient = ?))")
            values += [.text(recipient), .text(recipient)]
        }
        if let messageID = query.messageID {
            conditions.append("message_id = ?")
            values.append(.text(EventRow.bareMessageID(messageID)))
        }
        if let queueID = query.queueID {
            conditions.append("queue_id = ?")
            values.append(.text(queueID))
        }
        if !query.kinds.isEmpty {
            conditions.append("\(kindFilter)kind IN (\(query.kinds.map { _ in "?" }.joined(separator: ",")))")
            values += query.kinds.map { .text($0.rawValue) }
        }
        if let bounceClass = query.bounceClass {
            conditions.append("bounce_class = ?")
            values.append(.text(bounceClass.rawValue))
        }
        if let site = query.site {
            conditions.append("site = ?")
            values.append(.text(site))
        }
        if let since = query.since {
            conditions.append("\(filter)time_ms >= ?")
            values.append(.integer(since))
        }
        if let until = query.until {
            conditions.append("\(filter)time_ms < ?")
            values.append(.integer(until))
        }
        if let before = query.before, let position = try cursor(db, before) {
            conditions.append("(\(filter)time_ms, \(filter)stream_order) < (?, ?)")
            values += [.integer(position.time), .integer(position.order)]
        }
        let whereClause = conditions.isEmpty ? "" : " WHERE " + conditions.joined(separator: " AND ")
        values.append(.integer(Int64(max(0, limit))))
        let order = "\(filter)time_ms DESC, \(filter)stream_order DESC"
        return ("SELECT stream_id, json FROM events\(whereClause) ORDER BY \(order) LIMIT ?", values)
    }

    /// Where a page ends: the cursor row's time and order (or, if it is gone, its id's).
    static func cursor(_ db: SQLiteConnection, _ streamID: String) throws -> (time: Int64, order: Int64)? {
        var found: (time: Int64, order: Int64)?
        try db.prepare("SELECT time_ms, stream_order FROM events WHERE stream_id = ?").query([.text(streamID)]) {
            found = (time: $0.int(0), order: $0.int(1))
        }
        if let found { return found }
        return EventRow.order(streamID).map { (time: $0 >> 20, order: $0) }
    }

    static func rows(_ db: SQLiteConnection, _ sql: String, _ values: [SQLiteValue]) throws -> [LoggedEvent] {
        var out: [LoggedEvent] = []
        try db.prepare(sql).query(values) { row in
            guard let id = row.text(0), let json = row.text(1),
                let event = try? DeliveryEvent(json: json)
            else { return }
            out.append(LoggedEvent(streamID: id, event: event))
        }
        return out
    }
}
