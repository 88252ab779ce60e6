import LogStore
import Queue
import RelayCore

/// A ``LogReader`` over the Redis events stream, for a console without the log store (until
/// the archiver lands; then `SQLiteLogStore` replaces it). It sees only what the stream
/// still holds, and reads at most ``maxScan`` entries per question, newest first.
public struct StreamLogReader: LogReader {
    let events: EventLog
    public static let maxScan = 200_000
    static let batch = 5_000

    public init(events: EventLog) {
        self.events = events
    }

    public func search(_ query: LogQuery) async throws -> [LoggedEvent] {
        var found: [LoggedEvent] = []
        try await scan(before: query.before) { logged in
            if query.matches(logged) { found.append(logged) }
            return found.count < query.limit
        }
        return found
    }

    public func timeline(queueID: String, account: String?) async throws -> [LoggedEvent] {
        var query = LogQuery()
        query.queueID = queueID
        query.account = account
        query.limit = 1000
        return try await search(query).reversed()
    }

    public func stats(_ query: StatsQuery) async throws -> [StatsRow] {
        var seen: [LoggedEvent] = []
        try await scan(before: nil) { logged in
            seen.append(logged)
            return (EventTime.milliseconds(iso8601: logged.event.time) ?? 0) >= query.since
        }
        return StatsCounting.rows(seen, query)
    }

    public func export(_ query: LogQuery, into sink: (LoggedEvent) async throws -> Void) async throws {
        var matched: [LoggedEvent] = []
        try await scan(before: nil) { logged in
            if query.matches(logged) { matched.append(logged) }
            return true
        }
        for logged in matched { try await sink(logged) }
    }

    /// Newest first until `visit` says stop or ``maxScan`` entries were read.
    private func scan(before: String?, _ visit: (LoggedEvent) -> Bool) async throws {
        var cursor = before
        var read = 0
        while read < Self.maxScan {
            let page = try await events.readBackward(before: cursor, count: Self.batch)
            guard let last = page.last else { return }
            read += page.count
            for (id, event) in page where !visit(LoggedEvent(streamID: id, event: event)) { return }
            cursor = last.id
        }
    }
}
