import RelayCore

/// What the archiver writes through: the SQLite store, or the PostgreSQL one. Every
/// operation is asynchronous (SQLite's run on its dispatch queue) and idempotent where a
/// crash could repeat it: ``appendEvents(_:)`` skips a stream id it has.
public protocol LogWriter: Sendable {
    /// Stores `events` in one transaction with their hourly counts (counted only for rows
    /// actually inserted). Returns how many were new.
    func appendEvents(_ events: [LoggedEvent]) async throws -> Int
    /// Deletes events older than `cutoff` and hourly counts older than `statsCutoff` (ms).
    /// Returns the events deleted.
    func deleteExpired(before cutoff: Int64, statsBefore statsCutoff: Int64) async throws -> Int
    /// One person's address out of every stored event (``LogErasure``). Returns the events changed.
    func eraseAddress(_ address: String) async throws -> Int
    /// Where the events go, for logs (never with a password).
    var location: String { get }
}

extension SQLiteLogStore: LogWriter {
    public func appendEvents(_ events: [LoggedEvent]) async throws -> Int {
        try await Self.offThread { try self.append(events) }
    }

    public func deleteExpired(before cutoff: Int64, statsBefore statsCutoff: Int64) async throws -> Int {
        try await Self.offThread { try self.deleteOlder(than: cutoff, statsOlderThan: statsCutoff) }
    }

    public func eraseAddress(_ address: String) async throws -> Int {
        try await Self.offThread { try self.erase(address: address) }
    }

    public var location: String { path }
}

/// Counts of `stats_hourly` rows (hour, account, domains, site, kind, class, count), folded
/// into ``StatsRow``s; the rows must come ordered by hour, account, domains and site.
package struct StatsFolder {
    package private(set) var rows: [StatsRow] = []

    package init() {}

    package mutating func add(
        hour: Int64, account: String, sendingDomain: String, recipientDomain: String, site: String, kind: String,
        bounceClass: String, count: Int
    ) {
        if rows.last.map({
            $0.hour != hour || $0.account != account || $0.sendingDomain != sendingDomain || $0.recipientDomain != recipientDomain
                || $0.site != site
        }) ?? true {
            rows.append(StatsRow(hour: hour, account: account, sendingDomain: sendingDomain, recipientDomain: recipientDomain, site: site))
        }
        let last = rows.count - 1
        switch DeliveryEvent.Kind(rawValue: kind) {
        case .accepted: rows[last].accepted += count
        case .delivered: rows[last].delivered += count
        case .deferred: rows[last].deferred += count
        case .bounced:
            rows[last].bounced += count
            rows[last].bouncedByClass[BounceClass(rawValue: bounceClass) ?? .other, default: 0] += count
        case .expired: rows[last].expired += count
        case .complaint: rows[last].complaints += count
        case .suppressed: rows[last].suppressed += count
        default: break
        }
    }
}

/// One `stats_hourly` key; ``StatsKey/keys(of:)`` lists an inserted event's keys (one per
/// recipient domain, for the kinds counted).
package struct StatsKey: Hashable, Comparable {
    package var hour: Int64
    package var account, sendingDomain, recipientDomain, site, kind, bounceClass: String

    package static func < (a: StatsKey, b: StatsKey) -> Bool {
        if a.hour != b.hour { return a.hour < b.hour }
        return [a.account, a.sendingDomain, a.recipientDomain, a.site, a.kind, a.bounceClass].lexicographicallyPrecedes([
            b.account, b.sendingDomain, b.recipientDomain, b.site, b.kind, b.bounceClass,
        ])
    }

    package static func keys(of row: EventRow, _ event: DeliveryEvent) -> [StatsKey] {
        guard LogSchema.countedKinds.contains(event.event) else { return [] }
        return row.recipientDomains.map { domain in
            StatsKey(
                hour: row.timeMS / 3_600_000 * 3_600_000, account: event.account ?? "", sendingDomain: row.sendingDomain,
                recipientDomain: domain, site: event.site?.rawValue ?? "", kind: event.event.rawValue,
                bounceClass: event.event == .bounced ? event.bounceClass?.rawValue ?? "" : "")
        }
    }
}
