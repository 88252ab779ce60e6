import Foundation
import Hummingbird
import LogStore
import RelayCore

/// `GET /v1/stats?since=&until=&by=site`: the account's hourly counts from the log store
/// (the archiver fills it), one row per hour × sending domain × recipient domain (× site),
/// and their totals with the rates the console shows. Counts are per recipient.
struct StatsHandler: Sendable {
    /// nil: no log store (`logs.sqlite_path`, `logs.postgres_url`) on this node, so there is nothing to count from (503).
    let logs: (any LogReader)?
    /// The widest range one request may ask for: 31 days of hours.
    static let maxRange: Int64 = 31 * 86_400_000

    struct Counts: Encodable {
        var accepted = 0, delivered = 0, deferred = 0, bounced = 0, expired = 0, complaints = 0, suppressed = 0
        var bouncedByClass: [String: Int] = [:]

        mutating func add(_ row: StatsRow) {
            accepted += row.accepted
            delivered += row.delivered
            deferred += row.deferred
            bounced += row.bounced
            expired += row.expired
            complaints += row.complaints
            suppressed += row.suppressed
            for (bounceClass, count) in row.bouncedByClass { bouncedByClass[bounceClass.rawValue, default: 0] += count }
        }

        enum CodingKeys: String, CodingKey {
            case accepted, delivered, deferred, bounced, expired, complaints, suppressed, bouncedByClass = "bounced_by_class"
        }
    }

    struct Row: Encodable {
        var hour: String
        var sendingDomain: String
        var recipientDomain: String
        var site: String
        var counts: Counts

        enum CodingKeys: String, CodingKey { case hour, sendingDomain = "sending_domain", recipientDomain = "recipient_domain", site }

        func encode(to encoder: any Encoder) throws {
            try counts.encode(to: encoder)
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(hour, forKey: .hour)
            try c.encode(sendingDomain, forKey: .sendingDomain)
            try c.encode(recipientDomain, forKey: .recipientDomain)
            try c.encode(site, forKey: .site)
        }
    }

    /// The rates are the console's: delivered and bounced (with expired) of the recipients
    /// with a final outcome, complaints of delivered; null when their denominator is zero.
    struct Totals: Encodable {
        var counts: Counts

        enum CodingKeys: String, CodingKey {
            case deliveryRate = "delivery_rate", bounceRate = "bounce_rate", complaintRate = "complaint_rate"
        }

        func encode(to encoder: any Encoder) throws {
            try counts.encode(to: encoder)
            var c = encoder.container(keyedBy: CodingKeys.self)
            let finished = counts.delivered + counts.bounced + counts.expired
            func ratio(_ part: Int, _ whole: Int) -> Double? { whole == 0 ? nil : Double(part) / Double(whole) }
            for (key, rate) in [
                (CodingKeys.deliveryRate, ratio(counts.delivered, finished)),
                (.bounceRate, ratio(counts.bounced + counts.expired, finished)),
                (.complaintRate, ratio(counts.complaints, counts.delivered)),
            ] {
                if let rate { try c.encode(rate, forKey: key) } else { try c.encodeNil(forKey: key) }
            }
        }
    }

    struct Answer: Encodable {
        var since: String
        var until: String
        var rows: [Row]
        var totals: Totals
    }

    /// `since` defaults to 24 hours before `until`, `until` to now; hours are counted whose
    /// start falls in `[since, until)`.
    func stats(_ request: Request, caller: APICaller) async throws(APIError) -> Answer {
        guard let logs else {
            throw APIError(
                .serviceUnavailable, "no_log_store",
                "statistics need the log store: set logs.sqlite_path or logs.postgres_url and run an archiver")
        }
        let query = request.uri.queryParameters
        let until =
            try query["until"].map { text throws(APIError) in try Self.milliseconds(String(text), field: "until") }
            ?? WallClock.nowMilliseconds()
        let since =
            try query["since"].map { text throws(APIError) in try Self.milliseconds(String(text), field: "since") }
            ?? until - 86_400_000
        guard since < until else { throw APIError.invalid("since", "must be before until") }
        guard until - since <= Self.maxRange else { throw APIError.invalid("since", "the range may be at most 31 days") }
        var bySite = false
        if let by = query["by"] {
            guard by == "site" else { throw APIError.invalid("by", "must be site") }
            bySite = true
        }
        let found: [StatsRow]
        do {
            // The account is the key's, never the caller's choice.
            found = try await logs.stats(StatsQuery(account: caller.account.name, since: since, until: until, bySite: bySite))
        } catch {
            throw APIError.logStoreUnavailable()
        }
        var totals = Counts()
        let rows = found.map { row in
            var counts = Counts()
            counts.add(row)
            totals.add(row)
            return Row(
                hour: WallClock.iso8601(milliseconds: row.hour), sendingDomain: row.sendingDomain, recipientDomain: row.recipientDomain,
                site: row.site, counts: counts)
        }
        return Answer(
            since: WallClock.iso8601(milliseconds: since), until: WallClock.iso8601(milliseconds: until), rows: rows,
            totals: Totals(counts: totals))
    }

    static func milliseconds(_ text: String, field: String) throws(APIError) -> Int64 {
        let normal = try ReadHandlers.timestamp(text, field: field)
        guard let ms = LogTime.milliseconds(normal) else {
            throw APIError.invalid(field, "must be a UTC time such as 2026-12-06T10:00:00Z")
        }
        return ms
    }
}

extension APIError {
    static func logStoreUnavailable() -> APIError {
        APIError(.serviceUnavailable, "unavailable", "the log store cannot be read; try again", retryAfter: 5)
    }
}
