import Foundation
import RelayCore
import Testing

@testable import LogStore

/// The store against a real SQLite file in a temporary directory.
struct SQLiteLogStoreTests {
    static let hour: Int64 = 1_764_000_000_000 / 3_600_000 * 3_600_000

    static func temporaryPath() -> String {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("logstore-\(UUID().uuidString)")
        try! FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        return directory.appendingPathComponent("logs.sqlite").path
    }

    static func event(
        _ kind: DeliveryEvent.Kind, at ms: Int64, queue: String, recipient: String? = nil, recipients: [String]? = nil,
        account: String? = "acme", site: SiteName? = nil, bounceClass: BounceClass? = nil, sender: String = "news@Acme.example",
        reply: String? = nil
    ) -> DeliveryEvent {
        var event = DeliveryEvent(
            event: kind, time: WallClock.iso8601(milliseconds: ms), queueID: queue, messageID: "<\(queue)@acme.example>", sender: sender)
        event.recipient = recipient
        event.recipients = recipients
        event.account = account
        event.site = site
        event.bounceClass = bounceClass
        event.bounceType = bounceClass.map { _ in .hard }
        event.reply = reply
        return event
    }

    /// A day of mixed traffic: 3 messages (one to two recipients), outcomes at two sites.
    static func sample(start: Int64 = hour) -> [LoggedEvent] {
        var out: [LoggedEvent] = []
        var seq: Int64 = 0
        func add(_ event: DeliveryEvent, _ ms: Int64) {
            out.append(LoggedEvent(streamID: "\(ms)-\(seq)", event: event))
            seq += 1
        }
        add(event(.accepted, at: start + 1000, queue: "q1", recipients: ["a@gmail.com", "B@Docomo.ne.jp"]), start + 1000)
        add(event(.delivered, at: start + 2000, queue: "q1", recipient: "a@gmail.com", site: "gmail"), start + 2000)
        add(
            event(
                .bounced, at: start + 2000, queue: "q1", recipient: "b@docomo.ne.jp", site: "docomo", bounceClass: .invalidRecipient,
                reply: "550 5.1.1 <b@docomo.ne.jp> unknown"), start + 2000)
        add(event(.accepted, at: start + 3_700_000, queue: "q2", recipients: ["c@gmail.com"], account: "other"), start + 3_700_000)
        add(
            event(
                .deferred, at: start + 3_800_000, queue: "q2", recipient: "c@gmail.com", account: "other", site: "gmail",
                bounceClass: .throttled), start + 3_800_000)
        add(
            event(.delivered, at: start + 3_900_000, queue: "q2", recipient: "c@gmail.com", account: "other", site: "gmail"),
            start + 3_900_000)
        add(event(.accepted, at: start + 4_000_000, queue: "q3", recipients: ["d@yahoo.co.jp"], sender: ""), start + 4_000_000)
        add(event(.suppressed, at: start + 4_000_001, queue: "q3", recipient: "d@yahoo.co.jp", sender: ""), start + 4_000_001)
        return out
    }

    /// The counts `stats_hourly` must hold, recounted from the events themselves.
    static func recount(_ events: [LoggedEvent], bySite: Bool) -> [String: Int] {
        var out: [String: Int] = [:]
        for logged in events {
            let event = logged.event
            guard LogSchema.countedKinds.contains(event.event) else { continue }
            let hour = EventTime.milliseconds(event.time)! / 3_600_000 * 3_600_000
            let recipients = event.recipient.map { [$0] } ?? event.recipients ?? []
            for recipient in recipients {
                let domain = recipient.split(separator: "@").last.map { $0.lowercased() } ?? ""
                let sending = event.sender.split(separator: "@").last.map { $0.lowercased() } ?? ""
                let site = bySite ? event.site?.rawValue ?? "" : ""
                out["\(hour)|\(event.account ?? "")|\(sending)|\(domain)|\(site)|\(event.event.rawValue)", default: 0] += 1
            }
        }
        return out
    }

    static func flatten(_ rows: [StatsRow]) -> [String: Int] {
        var out: [String: Int] = [:]
        for row in rows {
            let prefix = "\(row.hour)|\(row.account)|\(row.sendingDomain)|\(row.recipientDomain)|\(row.site)|"
            for (kind, count) in [
                ("accepted", row.accepted), ("delivered", row.delivered), ("deferred", row.deferred), ("bounced", row.bounced),
                ("expired", row.expired), ("complaint", row.complaints), ("suppressed", row.suppressed),
            ] where count > 0 {
                out[prefix + kind] = count
            }
        }
        return out
    }

    @Test func insertsAndReplaysIdempotently() async throws {
        let store = try SQLiteLogStore(path: Self.temporaryPath())
        let events = Self.sample()
        #expect(try store.append(events) == events.count)
        // A replay (the archiver killed before XACK): nothing new, counts unchanged.
        #expect(try store.append(events) == 0)
        #expect(try store.append(Array(events.suffix(3))) == 0)
        let all = try await store.search(LogQuery(limit: 1000))
        #expect(all.count == events.count)
        #expect(all.map(\.streamID) == events.reversed().map(\.streamID))
        let stats = try await store.stats(StatsQuery(since: Self.hour, until: Self.hour + 86_400_000, bySite: true))
        #expect(Self.flatten(stats) == Self.recount(events, bySite: true))
        let summed = try await store.stats(StatsQuery(since: Self.hour, until: Self.hour + 86_400_000, bySite: false))
        #expect(Self.flatten(summed) == Self.recount(events, bySite: false))
        let docomo = try #require(stats.first { $0.recipientDomain == "docomo.ne.jp" && $0.site == "docomo" })
        #expect(docomo.bouncedByClass == [.invalidRecipient: 1])
        #expect(stats.allSatisfy { $0.sendingDomain == "acme.example" || $0.sendingDomain == "" })
    }

    @Test func statsEqualRecountOverManyBatches() async throws {
        let store = try SQLiteLogStore(path: Self.temporaryPath())
        var all: [LoggedEvent] = []
        for day in 0..<5 {
            let batch = Self.sample(start: Self.hour + Int64(day) * 86_400_000)
            all += batch
            // Overlapping batches, as a crashed archiver's redelivery gives.
            try store.append(Array(batch.prefix(5)))
            try store.append(batch)
        }
        let stats = try await store.stats(StatsQuery(since: Self.hour, until: Self.hour + 10 * 86_400_000, bySite: true))
        #expect(Self.flatten(stats) == Self.recount(all, bySite: true))
        let acme = try await store.stats(StatsQuery(account: "acme", since: Self.hour, until: Self.hour + 10 * 86_400_000, bySite: false))
        #expect(acme.allSatisfy { $0.account == "acme" })
        #expect(acme.map(\.delivered).reduce(0, +) == 5)
        // Hour × site only (the overview): the same totals per hour and site, one row each.
        let bySite = try await store.stats(
            StatsQuery(since: Self.hour, until: Self.hour + 10 * 86_400_000, bySite: true, byAccountAndDomain: false))
        #expect(bySite.allSatisfy { $0.account.isEmpty && $0.sendingDomain.isEmpty && $0.recipientDomain.isEmpty })
        #expect(Set(bySite.map { "\($0.hour)|\($0.site)" }).count == bySite.count)
        for row in bySite {
            let same = stats.filter { $0.hour == row.hour && $0.site == row.site }
            #expect(row.delivered == same.map(\.delivered).reduce(0, +) && row.accepted == same.map(\.accepted).reduce(0, +))
            #expect(row.bouncedByClass == same.reduce(into: [:]) { $0.merge($1.bouncedByClass, uniquingKeysWith: +) })
        }
        #expect(bySite.map(\.bounced).reduce(0, +) == stats.map(\.bounced).reduce(0, +))
    }

    @Test func searchFilters() async throws {
        let store = try SQLiteLogStore(path: Self.temporaryPath())
        try store.append(Self.sample())
        // A recipient matches its own outcomes and the accepted event that listed it.
        let b = try await store.search(LogQuery(recipient: "B@docomo.ne.jp"))
        #expect(b.map(\.event.event) == [.bounced, .accepted])
        #expect(try await store.search(LogQuery(messageID: "q2@acme.example")).count == 3)
        #expect(try await store.search(LogQuery(messageID: "<q2@acme.example>")).count == 3)
        #expect(try await store.search(LogQuery(queueID: "q1", kinds: [.delivered, .bounced])).count == 2)
        #expect(try await store.search(LogQuery(account: "other")).count == 3)
        #expect(try await store.search(LogQuery(account: "acme", queueID: "q2")).isEmpty)
        #expect(try await store.search(LogQuery(bounceClass: .throttled)).map(\.event.queueID) == ["q2"])
        #expect(try await store.search(LogQuery(site: "gmail")).count == 3)
        let window = try await store.search(LogQuery(since: Self.hour + 2000, until: Self.hour + 3_800_000))
        #expect(window.map(\.event.event) == [.accepted, .bounced, .delivered])
        // Paging by cursor, newest first, each event once.
        var seen: [String] = []
        var query = LogQuery(limit: 3)
        while true {
            let page = try await store.search(query)
            seen += page.map(\.streamID)
            guard let last = page.last else { break }
            query.before = last.streamID
        }
        #expect(seen == Self.sample().reversed().map(\.streamID))
        var exported: [String] = []
        try await store.export(LogQuery(limit: 1)) { exported.append($0.streamID) }
        #expect(exported == seen)
        let timeline = try await store.timeline(queueID: "q2", account: "other")
        #expect(timeline.map(\.event.event) == [.accepted, .deferred, .delivered])
        #expect(try await store.timeline(queueID: "q2", account: "acme").isEmpty)
    }

    @Test func sameMillisecondOrdersBySequence() async throws {
        let store = try SQLiteLogStore(path: Self.temporaryPath())
        let events = (0..<12).map { seq in
            LoggedEvent(streamID: "\(Self.hour)-\(seq)", event: Self.event(.delivered, at: Self.hour, queue: "q\(seq)", recipient: "x@y.z"))
        }
        try store.append(events)
        #expect(try await store.search(LogQuery()).map(\.streamID) == events.reversed().map(\.streamID))
    }

    @Test func retentionDeletesOldRowsInBatches() async throws {
        let store = try SQLiteLogStore(path: Self.temporaryPath())
        let old = Self.sample(start: Self.hour)
        let recent = Self.sample(start: Self.hour + 10 * 86_400_000)
        try store.append(old + recent)
        let deleted = try store.deleteOlder(than: Self.hour + 5 * 86_400_000, batch: 3)
        #expect(deleted == old.count)
        let left = try await store.search(LogQuery(limit: 1000))
        #expect(Set(left.map(\.streamID)) == Set(recent.map(\.streamID)))
        // The multi-recipient index of the deleted accepted event went with it.
        #expect(try await store.search(LogQuery(recipient: "b@docomo.ne.jp")).count == 2)
    }

    @Test func eraseRemovesTheAddressEverywhere() async throws {
        let path = Self.temporaryPath()
        let store = try SQLiteLogStore(path: path)
        let events = Self.sample()
        try store.append(events)
        #expect(try store.erase(address: "b@DOCOMO.ne.jp") == 2)
        #expect(try await store.search(LogQuery(recipient: "b@docomo.ne.jp")).isEmpty)
        let q1 = try await store.timeline(queueID: "q1", account: nil)
        #expect(q1.count == 3)
        #expect(q1[0].event.recipients == ["a@gmail.com", SQLiteLogStore.erasedAddress])
        #expect(q1[2].event.recipient == SQLiteLogStore.erasedAddress)
        #expect(q1[2].event.reply == "550 5.1.1 <\(SQLiteLogStore.erasedAddress)> unknown")
        // Not a byte of it left in the file's tables (the WAL is checkpointed by the reads' close).
        let raw = try store.withReader { db -> Int in
            var hits = 0
            try db.prepare("SELECT count(*) FROM events WHERE instr(lower(json), 'b@docomo') > 0 OR recipient LIKE 'b@docomo%'").query {
                hits = Int($0.int(0))
            }
            return hits
        }
        #expect(raw == 0)
        // Counts are kept: the events stay, only the address goes.
        let stats = try await store.stats(StatsQuery(since: Self.hour, until: Self.hour + 86_400_000, bySite: true))
        #expect(Self.flatten(stats) == Self.recount(events, bySite: true))
        // Erasing a sender.
        #expect(try store.erase(address: "news@acme.example") == 6)
        #expect(try await store.search(LogQuery(queueID: "q1")).allSatisfy { $0.event.sender == SQLiteLogStore.erasedAddress })
    }

    @Test func parsesEventTimes() {
        #expect(EventTime.milliseconds("1970-01-01T00:00:01.5Z") == 1500)
        #expect(EventTime.milliseconds("2026-11-29T01:02:03.456Z") == EventTime.milliseconds("2026-11-29T10:02:03.456+09:00"))
        #expect(EventTime.milliseconds(WallClock.iso8601(milliseconds: 1_764_000_123_456)) == 1_764_000_123_456)
        #expect(EventTime.milliseconds("yesterday") == nil)
    }
}

/// The plans SQLite picks for the searches that must stay fast at tens of millions of rows
/// (`make logstore-bench`): without statistics it would rather walk an account's rows in
/// time order than look up one recipient.
struct SQLiteQueryPlanTests {
    static func plan(_ query: LogQuery) throws -> String {
        let store = try SQLiteLogStore(path: SQLiteLogStoreTests.temporaryPath())
        return try store.withReader { db in
            let (sql, values) = try SQLiteLogStore.pageSQL(db, query, limit: 100)
            var steps: [String] = []
            try db.prepare("EXPLAIN QUERY PLAN " + sql).query(values) { row in steps.append(row.text(3) ?? "") }
            return steps.joined(separator: "\n")
        }
    }

    @Test(arguments: [
        LogQuery(account: "acme", recipient: "user@example.jp"),
        LogQuery(account: "acme", recipient: "user@example.jp", kinds: [.bounced], since: 1, until: 2, before: "5-0"),
        LogQuery(recipient: "user@example.jp"),
    ])
    func aRecipientSearchUsesTheRecipientIndex(_ query: LogQuery) throws {
        let plan = try Self.plan(query)
        #expect(plan.contains("events_recipient"), "\(plan)")
        #expect(!plan.contains("events_account_time") && !plan.contains("events_kind_time") && !plan.contains("events_time"), "\(plan)")
    }

    @Test func aMessageIDSearchUsesTheMessageIDIndex() throws {
        let plan = try Self.plan(LogQuery(account: "acme", messageID: "<a@b>", since: 1))
        #expect(plan.contains("events_message_id"), "\(plan)")
        #expect(!plan.contains("events_account_time"), "\(plan)")
    }

    @Test func anAccountsRecentEventsWalkItsTimeIndex() throws {
        let plan = try Self.plan(LogQuery(account: "acme", kinds: [.bounced]))
        #expect(plan.contains("events_account_time"), "\(plan)")
        // Sorting only ties within a millisecond ("RIGHT PART OF ORDER BY") is fine; a full sort is not.
        #expect(!plan.contains("TEMP B-TREE FOR ORDER BY"), "\(plan)")
    }
}
