import LogStore
import RelayCore

/// The reads of ``ReadHandlers`` from the log store: any age the store keeps
/// (`logs.retention`), found by index rather than by scanning the stream.
extension ReadHandlers {
    static func list(
        _ logs: any LogReader, _ filter: Filter, account: String, limit: Int, cursor: String?
    ) async throws(APIError) -> EventsAnswer {
        var query = LogQuery(
            account: account, recipient: filter.recipient, messageID: filter.messageID, queueID: filter.queueID,
            kinds: filter.kind.map { [$0] } ?? [], limit: limit, before: cursor)
        query.since = filter.since.flatMap(LogTime.milliseconds)
        query.until = filter.until.flatMap(LogTime.milliseconds)
        let found: [LoggedEvent]
        do { found = try await logs.search(query) } catch { throw APIError.logStoreUnavailable() }
        return EventsAnswer(
            events: found.map { AnyEvent(id: $0.streamID, event: $0.event) },
            nextCursor: found.count == limit ? found.last?.streamID : nil)
    }

    /// nil when the store has no acceptance of `id` for `account` (not archived yet).
    static func message(_ logs: any LogReader, _ id: String, account: String) async throws(APIError) -> MessageAnswer? {
        let timeline: [LoggedEvent]
        do { timeline = try await logs.timeline(queueID: id, account: account) } catch { throw APIError.logStoreUnavailable() }
        var tally = MessageTally(id: id)
        for logged in timeline { tally.add(logged.event) }
        return tally.answer
    }
}
