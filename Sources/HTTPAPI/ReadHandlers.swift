import Foundation
import HTTPTypes
import Hummingbird
import LogStore
import NIOCore
import Queue
import RelayCore

/// `GET /v1/events` and `GET /v1/messages/{id}`: an account's events (an account sees only
/// its own). With a log store (`logs.sqlite_path` or `logs.postgres_url`) they are read from it, so history older
/// than `events.retention` is served; without one, from the events stream, which holds the
/// recent past (about a million events): each request then reads at most ``maxScan``
/// entries of it and says where to go on (`next_cursor`).
struct ReadHandlers: Sendable {
    let events: EventLog
    let logs: (any LogReader)?
    /// Stream entries one request reads at most.
    static let maxScan = 20_000
    static let page = 1000

    struct EventsAnswer: Encodable {
        var events: [AnyEvent]
        var nextCursor: String?
        enum CodingKeys: String, CodingKey { case events, nextCursor = "next_cursor" }
    }

    /// An event as the stream has it, with its stream id as `event_id`.
    struct AnyEvent: Encodable {
        var id: String
        var event: DeliveryEvent

        func encode(to encoder: any Encoder) throws {
            try event.encode(to: encoder)
            var c = encoder.container(keyedBy: AnyCodingKey.self)
            try c.encode(id, forKey: AnyCodingKey(stringValue: "event_id"))
        }
    }

    struct Filter {
        var recipient: String?
        var messageID: String?
        var queueID: String?
        var kind: DeliveryEvent.Kind?
        var since: String?
        var until: String?

        func matches(_ event: DeliveryEvent, account: String) -> Bool {
            guard event.account == account else { return false }
            if let kind, event.event != kind { return false }
            if let queueID, event.queueID != queueID { return false }
            if let messageID, event.messageID != messageID { return false }
            if let recipient {
                let lower = recipient.lowercased()
                guard event.recipient?.lowercased() == lower || (event.recipients ?? []).contains(where: { $0.lowercased() == lower })
                else {
                    return false
                }
            }
            if let since, event.time < since { return false }
            if let until, event.time >= until { return false }
            return true
        }
    }

    /// `GET /v1/events?recipient=&message_id=&queue_id=&event=&since=&until=&cursor=&limit=`.
    func list(_ request: Request, caller: APICaller) async throws(APIError) -> EventsAnswer {
        let query = request.uri.queryParameters
        var filter = Filter()
        filter.recipient = query["recipient"].map(String.init)
        filter.messageID = query["message_id"].map(String.init)
        filter.queueID = query["queue_id"].map(String.init)
        if let kind = query["event"].map(String.init) {
            guard let parsed = DeliveryEvent.Kind(rawValue: kind) else {
                throw APIError.invalid(
                    "event",
                    "'\(RemoteText.capped(kind, maxBytes: 40))' is not one of \(DeliveryEvent.Kind.allCases.map(\.rawValue).joined(separator: ", "))"
                )
            }
            filter.kind = parsed
        }
        filter.since = try query["since"].map { text throws(APIError) in try Self.timestamp(String(text), field: "since") }
        filter.until = try query["until"].map { text throws(APIError) in try Self.timestamp(String(text), field: "until") }
        var limit = 100
        if let text = query["limit"] {
            guard let value = Int(text), (1...1000).contains(value) else { throw APIError.invalid("limit", "must be 1 to 1000") }
            limit = value
        }
        var cursor = query["cursor"].map(String.init)
        if let cursor, !Self.isStreamID(cursor) { throw APIError.invalid("cursor", "is not a cursor this API gave") }
        if let logs { return try await Self.list(logs, filter, account: caller.account.name, limit: limit, cursor: cursor) }
        var found: [AnyEvent] = []
        var scanned = 0
        var reachedEnd = false
        scan: while found.count < limit, scanned < Self.maxScan {
            let page: [(id: String, event: DeliveryEvent)]
            do { page = try await events.readBackward(before: cursor, count: Self.page) } catch { throw APIError.redisUnavailable() }
            for (id, event) in page {
                // Older than `since`: nothing further back can match.
                if let since = filter.since, event.time < since {
                    reachedEnd = true
                    break scan
                }
                cursor = id
                scanned += 1
                if filter.matches(event, account: caller.account.name) {
                    found.append(AnyEvent(id: id, event: event))
                    if found.count == limit { break scan }
                }
            }
            if page.count < Self.page {
                reachedEnd = true
                break
            }
        }
        return EventsAnswer(events: found, nextCursor: reachedEnd ? nil : cursor)
    }

    struct MessageAnswer: Encodable {
        var id: String
        var messageID: String?
        var from: String
        var acceptedAt: String?
        var recipients: [RecipientState]
        enum CodingKeys: String, CodingKey { case id, messageID = "message_id", from, acceptedAt = "accepted_at", recipients }
    }

    struct RecipientState: Encodable {
        var email: String
        var status: String
        var reply: String?
        var time: String?
        var attempt: Int?
    }

    /// `GET /v1/messages/{id}`: the envelope and each recipient's latest status, from the
    /// message's events (read forward from its acceptance, which its id records).
    func message(_ id: String, caller: APICaller) async throws(APIError) -> MessageAnswer {
        guard QueueID.isWellFormed(id), let accepted = QueueID(rawValue: id).milliseconds else {
            throw APIError(.notFound, "not_found", "no message \(RemoteText.capped(id, maxBytes: 40)) of account \(caller.account.name)")
        }
        // A message the archiver has not reached yet is still in the stream.
        if let logs, let answer = try await Self.message(logs, id, account: caller.account.name) { return answer }
        var tally = MessageTally(id: id)
        var after = "\(max(0, accepted - 5000))-0"
        var scanned = 0
        scan: while scanned < Self.maxScan {
            let page: [(id: String, event: DeliveryEvent)]
            do { page = try await events.read(after: after, count: Self.page) } catch { throw APIError.redisUnavailable() }
            for (streamID, event) in page {
                after = streamID
                scanned += 1
                guard event.queueID == id, event.account == caller.account.name else { continue }
                tally.add(event)
                if tally.isFinished { break scan }
            }
            if page.count < Self.page { break }
        }
        guard let answer = tally.answer else {
            throw APIError(.notFound, "not_found", "no message \(id) of account \(caller.account.name) in the recent events")
        }
        return answer
    }

    /// A message's state from its events, oldest first: its acceptance, then each
    /// recipient's latest event.
    struct MessageTally {
        let id: String
        var accepted: DeliveryEvent?
        var latest: [String: DeliveryEvent] = [:]

        init(id: String) { self.id = id }

        mutating func add(_ event: DeliveryEvent) {
            if event.event == .accepted {
                accepted = event
            } else if let recipient = event.recipient {
                latest[recipient] = event
            }
        }

        /// Every recipient has a final outcome: later events change nothing.
        var isFinished: Bool {
            guard let order = accepted?.recipients, !order.isEmpty else { return false }
            return order.allSatisfy { latest[$0]?.event.isFinal == true }
        }

        var answer: MessageAnswer? {
            guard let accepted else { return nil }
            let recipients = (accepted.recipients ?? []).map { email in
                guard let event = latest[email] else { return RecipientState(email: email, status: "queued") }
                return RecipientState(
                    email: email, status: event.event.rawValue, reply: event.reply, time: event.time, attempt: event.attempt)
            }
            return MessageAnswer(
                id: id, messageID: accepted.messageID, from: accepted.sender, acceptedAt: accepted.time, recipients: recipients)
        }
    }

    /// `2026-12-06T10:00:00Z` or with milliseconds, as events write times (UTC): returned
    /// in the events' own form, so that times compare as strings.
    static func timestamp(_ text: String, field: String) throws(APIError) -> String {
        let pattern = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(\.\d{1,3})?Z$/
        guard let match = text.wholeMatch(of: pattern) else {
            throw APIError.invalid(field, "must be a UTC time such as 2026-12-06T10:00:00Z")
        }
        var fraction = match.2.map { String($0.dropFirst()) } ?? ""
        while fraction.count < 3 { fraction += "0" }
        return "\(match.1).\(fraction)Z"
    }

    static func isStreamID(_ text: String) -> Bool {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        return parts.count == 2 && parts.allSatisfy { !$0.isEmpty && $0.count <= 20 && $0.allSatisfy(\.isNumber) }
    }
}
