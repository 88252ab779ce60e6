import Console
import LogStore
import RelayCore

/// A ``LogReader`` over an array, newest last, for page and scoping tests (the SQLite store
/// has its own tests on branch `logstore`).
struct InMemoryLogReader: LogReader {
    var events: [LoggedEvent]

    func search(_ query: LogQuery) async throws -> [LoggedEvent] {
        Array(
            events.reversed().lazy.filter { query.before == nil || $0.streamID < query.before! }.filter { query.matches($0) }.prefix(
                query.limit))
    }

    func timeline(queueID: String, account: String?) async throws -> [LoggedEvent] {
        events.filter { $0.event.queueID == queueID && (account == nil || $0.event.account == account) }
    }

    func stats(_ query: StatsQuery) async throws -> [StatsRow] {
        StatsCounting.rows(events, query)
    }

    func export(_ query: LogQuery, into sink: (LoggedEvent) async throws -> Void) async throws {
        for event in events.reversed() where query.matches(event) { try await sink(event) }
    }

    /// Two accounts' messages: `a` delivered to gmail, `b` bounced at docomo.
    static let sample: InMemoryLogReader = {
        func event(
            _ id: String, _ kind: DeliveryEvent.Kind, account: String, queue: String, recipient: String, site: String, time: String
        )
            -> LoggedEvent
        {
            var e = DeliveryEvent(
                event: kind, time: time, queueID: queue, messageID: "<\(queue)@example>", sender: "news@\(account).example")
            e.account = account
            e.recipient = recipient
            e.site = SiteName(rawValue: site)
            if kind == .bounced { e.bounceClass = .invalidRecipient }
            return LoggedEvent(streamID: id, event: e)
        }
        return InMemoryLogReader(events: [
            event("1-0", .accepted, account: "a", queue: "qa", recipient: "x@gmail.com", site: "", time: "2025-01-31T00:00:00.000Z"),
            event("2-0", .delivered, account: "a", queue: "qa", recipient: "x@gmail.com", site: "gmail", time: "2025-01-31T00:00:01.000Z"),
            event("3-0", .accepted, account: "b", queue: "qb", recipient: "y@docomo.ne.jp", site: "", time: "2025-01-31T01:00:00.000Z"),
            event(
                "4-0", .bounced, account: "b", queue: "qb", recipient: "y@docomo.ne.jp", site: "docomo", time: "2025-01-31T01:00:02.500Z"),
        ])
    }()
}
