import Foundation
import HikyakuTestSupport
import LogStore
import Logging
import PostgresLogStore
import RelayCore
import Testing

/// The PostgreSQL store against a real `postgres` (Debian's), answering exactly as the
/// SQLite store does: the same events appended to both, then every query compared.
@Suite(.serialized) struct PostgresLogStoreTests {
    static let start: Int64 = 1_764_000_000_000 / 3_600_000 * 3_600_000
    static let sites: [SiteName?] = [nil, "gmail", "docomo", "yahoo-japan"]
    static let kinds: [DeliveryEvent.Kind] = [.accepted, .delivered, .deferred, .bounced, .expired, .complaint, .suppressed, .purged]

    /// 1,300 events over seven hours (more than one page of an export): three accounts, four sites, every kind, runs of up to 12
    /// entries in one millisecond (so `…-10` must sort after `…-9`).
    static func traffic() -> [LoggedEvent] {
        var out: [LoggedEvent] = []
        var ms = start
        var seq: Int64 = 0
        for index in 0..<1300 {
            if index % 12 == 0 {
                ms += 239_989
                seq = 0
            }
            let kind = kinds[index % kinds.count]
            var event = DeliveryEvent(
                event: kind, time: WallClock.iso8601(milliseconds: ms), queueID: "q\(index / 4)", messageID: "<m\(index / 4)@acme.example>",
                sender: index % 5 == 0 ? "" : "News@Acme\(index % 2).example")
            if kind == .accepted {
                event.recipients = ["U\(index % 7)@Gmail.com", "v\(index % 3)@docomo.ne.jp"]
            } else {
                event.recipient = "u\(index % 7)@gmail.com"
            }
            event.account = ["acme", "other", nil][index % 3]
            event.site = kind == .accepted ? nil : sites[index % sites.count]
            if kind == .bounced || kind == .deferred { event.bounceClass = [.invalidRecipient, .throttled, .mailboxFull][index % 3] }
            event.reply = kind == .bounced ? "550 5.1.1 <u\(index % 7)@gmail.com> unknown" : nil
            out.append(LoggedEvent(streamID: "\(ms)-\(seq)", event: event))
            seq += 1
        }
        return out
    }

    static let queries: [LogQuery] = [
        LogQuery(limit: 1000), LogQuery(account: "acme"), LogQuery(recipient: "U3@gmail.com"), LogQuery(recipient: "v1@docomo.ne.jp"),
        LogQuery(messageID: "m7@acme.example"), LogQuery(messageID: "<m7@acme.example>"), LogQuery(queueID: "q20"),
        LogQuery(kinds: [.bounced, .expired]), LogQuery(bounceClass: .throttled), LogQuery(site: "docomo"),
        LogQuery(since: start + 3_600_000, until: start + 7_200_000, limit: 500), LogQuery(account: "other", kinds: [.delivered], limit: 7),
    ]

    static func withStores(_ body: @Sendable (SQLiteLogStore, PostgresLogStore) async throws -> Void) async throws {
        let server = try await PostgresServerProcess.start()
        defer { server.stop() }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("pgstore-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let sqlite = try SQLiteLogStore(path: directory.appendingPathComponent("logs.sqlite").path)
        try await PostgresLogStore.withStore(url: PostgresURL(parsing: server.url), password: nil, logger: Logger(label: "test")) {
            try await body(sqlite, $0)
        }
    }

    static func ids(_ events: [LoggedEvent]) -> [String] { events.map(\.streamID) }

    @Test func answersAsSQLiteDoes() async throws {
        try await Self.withStores { sqlite, postgres in
            let events = Self.traffic()
            #expect(try await sqlite.appendEvents(events) == events.count)
            // Out of order and in two batches: the store orders, not the caller.
            #expect(try await postgres.appendEvents(Array(events[300...]).reversed()) == events.count - 300)
            #expect(try await postgres.appendEvents(Array(events[..<300])) == 300)
            for query in Self.queries {
                let expected = try await sqlite.search(query)
                #expect(!expected.isEmpty, "\(query)")
                #expect(Self.ids(try await postgres.search(query)) == Self.ids(expected), "\(query)")
                var cursor = query
                cursor.limit = 5
                cursor.before = expected.count > 3 ? expected[2].streamID : nil
                #expect(Self.ids(try await postgres.search(cursor)) == Self.ids(try await sqlite.search(cursor)), "\(cursor)")
            }
            for queue in ["q0", "q20", "q149"] {
                #expect(
                    Self.ids(try await postgres.timeline(queueID: queue, account: nil))
                        == Self.ids(try await sqlite.timeline(queueID: queue, account: nil)))
                #expect(try await postgres.timeline(queueID: queue, account: "nobody").isEmpty)
            }
            for bySite in [false, true] {
                for (account, byAccountAndDomain) in [(nil, true), ("acme", true), (nil, false), ("acme", false)] {
                    let query = StatsQuery(
                        account: account, since: Self.start, until: Self.start + 86_400_000, bySite: bySite,
                        byAccountAndDomain: byAccountAndDomain)
                    let expected = try await sqlite.stats(query)
                    #expect(!expected.isEmpty)
                    #expect(try await postgres.stats(query) == expected)
                }
            }
            let exported = ExportCollector()
            try await postgres.export(LogQuery(limit: 3)) { await exported.add($0.streamID) }
            #expect(await exported.ids == Self.ids(try await sqlite.search(LogQuery(limit: 10_000))))
        }
    }

    @Test func replaysEraseAndRetentionMatch() async throws {
        try await Self.withStores { sqlite, postgres in
            let events = Self.traffic()
            _ = try await sqlite.appendEvents(events)
            _ = try await postgres.appendEvents(events)
            let all = StatsQuery(since: Self.start, until: Self.start + 86_400_000, bySite: true)
            let before = try await postgres.stats(all)
            // A replay (an archiver killed before its XACK) stores and counts nothing.
            #expect(try await postgres.appendEvents(Array(events[100..<250])) == 0)
            #expect(try await postgres.stats(all) == before)
            // Concurrent overlapping batches (two archivers after a takeover): each row once.
            async let first = postgres.appendEvents(events)
            async let second = postgres.appendEvents(events.reversed())
            #expect(try await first + second == 0)

            #expect(try await postgres.eraseAddress("U3@GMAIL.com") == (try await sqlite.eraseAddress("u3@gmail.com")))
            #expect(try await postgres.search(LogQuery(recipient: "u3@gmail.com")).isEmpty)
            let everything = LogQuery(limit: 10_000)
            let pgJSON = try await postgres.search(everything).map { String(decoding: $0.event.jsonBytes(), as: UTF8.self) }
            let sqliteJSON = try await sqlite.search(everything).map { String(decoding: $0.event.jsonBytes(), as: UTF8.self) }
            #expect(pgJSON == sqliteJSON)
            #expect(!pgJSON.joined().lowercased().contains("u3@gmail.com"))
            #expect(try await postgres.stats(all) == before)

            let cutoff = Self.start + 5_400_000
            #expect(
                try await postgres.deleteExpired(before: cutoff, statsBefore: Self.start + 3_600_000)
                    == (try await sqlite.deleteExpired(before: cutoff, statsBefore: Self.start + 3_600_000)))
            #expect(Self.ids(try await postgres.search(everything)) == Self.ids(try await sqlite.search(everything)))
            #expect(try await postgres.stats(all) == (try await sqlite.stats(all)))
        }
    }

    @Test func aDatabaseThatCannotBeReachedFailsWithoutThePassword() async throws {
        let server = try await PostgresServerProcess.start()
        defer { server.stop() }
        // Trust authentication accepts any password: a database that does not exist fails instead.
        let url = try PostgresURL(parsing: "postgres://hikyaku:sekrit-pw@127.0.0.1:\(server.port)/missing?sslmode=disable")
        do {
            try await PostgresLogStore.withStore(url: url, password: nil, logger: Logger(label: "test")) {
                _ = try await $0.search(LogQuery())
            }
            Issue.record("a search in a missing database succeeded")
        } catch {
            #expect("\(error)".hasPrefix("PostgreSQL postgres://hikyaku:***@127.0.0.1:\(server.port)/missing?sslmode=disable: "))
            #expect(!"\(error)".contains("sekrit-pw"))
            #expect("\(error)".contains("database \"missing\" does not exist"), "\(error)")
        }
    }

    /// Twenty archiver-sized batches (500) into a fresh table: every event stored once, and a
    /// batch replayed after them adds nothing. (Throughput: `make logstore-bench STORE=postgres`.)
    @Test func manyBatchesStoreEachEventOnce() async throws {
        try await Self.withStores { _, postgres in
            var total = 0
            var last: [LoggedEvent] = []
            for round in 0..<20 {
                last = Self.traffic().prefix(500).enumerated().map { index, logged in
                    LoggedEvent(streamID: "\(Self.start + Int64(round * 500 + index))-0", event: logged.event)
                }
                total += try await postgres.appendEvents(last)
            }
            #expect(total == 20 * last.count)
            #expect(try await postgres.appendEvents(last) == 0)
        }
    }
}

actor ExportCollector {
    var ids: [String] = []
    func add(_ id: String) { ids.append(id) }
}
