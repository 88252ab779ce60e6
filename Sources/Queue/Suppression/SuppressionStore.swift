import Foundation
import NIOCore
import RedisClient
import RelayCore

/// The suppression lists in Redis: per account and one global, each a hash of
/// lower-cased address → entry JSON and a sorted set of expiries (docs/KEY-LAYOUT.md; the
/// steps are `Sources/Queue/Lua/hikyaku_suppression.lua`). `hk_enqueue` reads the same
/// keys and is the authority; ``lookup(_:account:)`` is the early answer at `RCPT`.
///
/// Every lookup is O(1): one `HGET` per list, pipelined.
public struct SuppressionStore: Sendable {
    public let configuration: QueueConfiguration
    let redis: RedisClient

    public init(redis: RedisClient, configuration: QueueConfiguration = .init()) {
        self.redis = redis
        self.configuration = configuration
    }

    private var keys: QueueKeys { configuration.keys }

    /// Entries per `FCALL hks_add` of ``add(_:to:)`` (an import pipelines several).
    public static let chunkSize = 1000

    /// The list a name from `supl` stands for.
    public static func scope(listName: String) -> SuppressionScope {
        listName == SuppressionScope.global.listName ? .global : .account(listName)
    }

    // MARK: Changes

    /// Adds or replaces entries, ``chunkSize`` per call, the calls pipelined (one round
    /// trip for an import's batch). Returns how many addresses were new.
    @discardableResult
    public func add(_ entries: [SuppressionEntry], to scope: SuppressionScope) async throws(QueueError) -> Int {
        guard !entries.isEmpty else { return 0 }
        let declared = [keys.suppression(scope), keys.suppressionExpiry(scope), keys.suppressionLists]
        var commands: [RedisCommand] = []
        var start = 0
        while start < entries.count {
            var args: [RESPArgument] = [.string(scope.listName)]
            for entry in entries[start..<min(start + Self.chunkSize, entries.count)] {
                args += [
                    .string(SuppressionEntry.normalize(entry.address)), .string(entry.json()),
                    entry.expiresAtMilliseconds.map { RESPArgument.integer($0) } ?? RESPArgument.string(""),
                ]
            }
            commands.append(MessageQueue.fcall("hks_add", keys: declared, args))
            start += Self.chunkSize
        }
        let replies = try await redis.adminPipeline(commands)
        var added = 0
        for reply in replies {
            if case .error(let text) = reply { throw .rejected(text) }
            added += Int(reply.int ?? 0)
        }
        return added
    }

    /// Removes an address; false if it was not on the list.
    public func remove(_ address: String, from scope: SuppressionScope) async throws(QueueError) -> Bool {
        let reply = try await redis.adminCall(
            "hks_remove", keys: [keys.suppression(scope), keys.suppressionExpiry(scope)],
            [.string(SuppressionEntry.normalize(address))])
        return reply.int == 1
    }

    // MARK: Reads

    /// The entry that suppresses `address` for `account`'s mail — its own list first, then
    /// the global one — or nil. An expired entry does not count, swept or not.
    public func lookup(_ address: String, account: String?) async throws(QueueError) -> (scope: SuppressionScope, entry: SuppressionEntry)?
    {
        let normalized = SuppressionEntry.normalize(address)
        var scopes: [SuppressionScope] = [.global]
        if let account { scopes.insert(.account(account), at: 0) }
        let replies = try await redis.adminPipeline(
            scopes.map { RedisCommand("HGET", [.string(keys.suppression($0)), .string(normalized)]) })
        let now = WallClock.nowMilliseconds()
        for (scope, reply) in zip(scopes, replies) {
            if let entry = Self.entry(normalized, reply), !entry.isExpired(at: now) { return (scope, entry) }
        }
        return nil
    }

    /// One list's entry for `address`, expired or not.
    public func entry(_ address: String, in scope: SuppressionScope) async throws(QueueError) -> SuppressionEntry? {
        let normalized = SuppressionEntry.normalize(address)
        return Self.entry(
            normalized, try await redis.adminSend(RedisCommand("HGET", [.string(keys.suppression(scope)), .string(normalized)])))
    }

    /// How many entries the list holds (expired ones not yet swept included).
    public func count(_ scope: SuppressionScope) async throws(QueueError) -> Int {
        Int(try await redis.adminSend(RedisCommand("HLEN", [.string(keys.suppression(scope))])).int ?? 0)
    }

    /// One `HSCAN` step from `cursor` (`"0"` to start): about `count` entries (expired ones
    /// left out) and the next cursor (`"0"` at the end). Streams a list of any size.
    public func page(
        _ scope: SuppressionScope, cursor: String, count: Int
    ) async throws(QueueError) -> (entries: [SuppressionEntry], next: String) {
        let reply = try await redis.adminSend(
            RedisCommand("HSCAN", [.string(keys.suppression(scope)), .string(cursor), "COUNT", .integer(Int64(count))]))
        guard let parts = reply.array, parts.count == 2, let next = parts[0].string, let flat = parts[1].array else {
            throw .malformed("HSCAN returned \(reply)")
        }
        let now = WallClock.nowMilliseconds()
        var entries: [SuppressionEntry] = []
        for index in stride(from: 0, to: flat.count - 1, by: 2) {
            guard let address = flat[index].string, let entry = Self.entry(address, flat[index + 1]), !entry.isExpired(at: now) else {
                continue
            }
            entries.append(entry)
        }
        return (entries, next)
    }

    static func entry(_ address: String, _ reply: RESPValue) -> SuppressionEntry? {
        guard let buffer = reply.buffer, var entry = try? JSONDecoder().decode(SuppressionEntry.self, from: Data(buffer.readableBytesView))
        else { return nil }
        entry.address = address
        return entry
    }

    /// Adds a `suppressed` event to the events stream (a refusal at `RCPT`; the enqueue
    /// writes its own).
    public func record(_ event: DeliveryEvent) async throws(QueueError) {
        _ = try await redis.adminSend(EventCoding.add(EventCoding.encode(event), to: configuration))
    }

    // MARK: Expiry

    /// Removes the expired entries of every list that has expiring ones; returns how many.
    public func sweep(batch: Int = 1000) async throws(QueueError) -> Int {
        let names = try await redis.adminSend(RedisCommand("SMEMBERS", [.string(keys.suppressionLists)])).array?.compactMap(\.string) ?? []
        var removed = 0
        for name in names {
            let scope = Self.scope(listName: name)
            var more = true
            while more {
                let reply = try await redis.adminCall(
                    "hks_sweep", keys: [keys.suppression(scope), keys.suppressionExpiry(scope), keys.suppressionLists],
                    [.string(name), .integer(Int64(batch))])
                let parts = reply.array ?? []
                removed += Int(parts.first?.int ?? 0)
                more = parts.last?.int == 1
            }
        }
        return removed
    }
}

extension MessageQueue {
    /// The suppression lists on this queue's Redis.
    public var suppressions: SuppressionStore { SuppressionStore(redis: redis, configuration: configuration) }
}
