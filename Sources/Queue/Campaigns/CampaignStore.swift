import NIOCore
import RedisClient
import RelayCore

/// Campaigns in Redis (QueueKeys, "Campaigns and lists"): the definition as JSON, the state
/// and the cursor, the done bitmap hk_enqueue keeps, and the counters. The definition is
/// opaque here (the `Campaigns` module owns its shape).
///
/// ```
/// camp:<id>         hash   def, account, state, rows, cursor, reason, updated
/// camp:<id>:done    bitmap row n enqueued or settled (hk_enqueue, atomically with the message)
/// camp:<id>:stats   hash   queued, suppressed (hk_enqueue); delivered, deferred, bounced, … (events)
/// camp:<id>:lease   string the runner holding it
/// ```
public struct CampaignStore: Sendable {
    let redis: RedisClient
    let keys: QueueKeys

    public init(redis: RedisClient, configuration: QueueConfiguration = .init()) {
        self.redis = redis
        self.keys = configuration.keys
    }

    /// A campaign's stored record.
    public struct Record: Sendable {
        public var id: String
        public var definition: String
        public var account: String
        public var state: String
        public var rows: Int
        public var cursor: Int
        public var reason: String?
    }

    public func create(id: String, account: String, definition: String, rows: Int) async throws {
        let key = keys.campaign(id)
        let replies = try await redis.pipeline([
            RedisCommand(
                "HSET",
                [
                    .string(key), "def", .string(definition), "account", .string(account), "state", "scheduled", "rows",
                    .integer(Int64(rows)), "cursor", "0", "updated", .integer(WallClock.nowMilliseconds()),
                ]),
            RedisCommand("SADD", [.string(keys.campaigns), .string(id)]),
        ])
        if let error = replies.compactMap(\.errorMessage).first { throw QueueError.rejected(error) }
    }

    /// The record; without the definition (`withDefinition: false`, `definition` empty) it
    /// is a few fields, for a runner's pass over every campaign.
    public func get(_ id: String, withDefinition: Bool = true) async throws -> Record? {
        let names = ["account", "state", "rows", "cursor", "reason"] + (withDefinition ? ["def"] : [])
        let reply = try await redis.send(RedisCommand("HMGET", [.string(keys.campaign(id))] + names.map { .string($0) }))
        var fields: [String: String] = [:]
        for (name, value) in zip(names, reply.array ?? []) { if let text = value.string { fields[name] = text } }
        guard let state = fields["state"] else { return nil }
        if withDefinition && fields["def"] == nil { return nil }
        return Record(
            id: id, definition: fields["def"] ?? "", account: fields["account"] ?? "", state: state,
            rows: Int(fields["rows"] ?? "") ?? 0, cursor: Int(fields["cursor"] ?? "") ?? 0, reason: fields["reason"])
    }

    /// Every campaign id (a set; campaigns are few beside their rows).
    public func ids() async throws -> [String] {
        let reply = try await redis.send(RedisCommand("SMEMBERS", [.string(keys.campaigns)]))
        return (reply.array ?? []).compactMap(\.string).sorted()
    }

    /// Sets the state (and the reason, or clears it) — only from one of `from` (compare
    /// and set with `hkc_state`), so `cancel` stays final. Returns the state before, or nil
    /// when the campaign was not in one of `from` (or does not exist).
    @discardableResult
    public func transition(_ id: String, to state: String, from: [String], reason: String? = nil) async throws -> String? {
        let reply = try await redis.send(
            MessageQueue.fcall(
                "hkc_state", keys: [keys.campaign(id)],
                [.string(state), .string(reason ?? ""), .integer(WallClock.nowMilliseconds())] + from.map { .string($0) }))
        if let error = reply.errorMessage { throw QueueError.rejected(error) }
        return reply.string.flatMap { $0.isEmpty ? nil : $0 }
    }

    /// Moves the cursor forward (never back): every row before `cursor` is settled.
    public func advance(_ id: String, cursor: Int) async throws {
        _ = try await redis.send(
            MessageQueue.fcall("hkc_advance", keys: [keys.campaign(id)], [.integer(Int64(cursor))]))
    }

    /// The done bits of rows `from ..< from + count` (bytes of the bitmap; missing: not done).
    public func doneRows(_ id: String, from: Int, count: Int) async throws -> [Bool] {
        guard count > 0 else { return [] }
        let first = from / 8
        let last = (from + count - 1) / 8
        let reply = try await redis.send(
            RedisCommand("GETRANGE", [.string(keys.campaignDone(id)), .integer(Int64(first)), .integer(Int64(last))]))
        let bytes = reply.buffer.map { Array($0.readableBytesView) } ?? []
        return (from..<(from + count)).map { row in
            let index = row / 8 - first
            guard index < bytes.count else { return false }
            return bytes[index] & (0x80 >> UInt8(row % 8)) != 0
        }
    }

    /// Settles a row that cannot be sent (its address or content): its bit, and `failed`
    /// counted once (SETBIT answers the bit before).
    public func settleFailed(_ id: String, row: Int) async throws {
        let before = try await redis.send(RedisCommand("SETBIT", [.string(keys.campaignDone(id)), .integer(Int64(row)), "1"]))
        if before.int == 0 {
            _ = try await redis.send(RedisCommand("HINCRBY", [.string(keys.campaignStats(id)), "failed", "1"]))
        }
    }

    /// The counters: `queued`, `suppressed`, and what the runner counted of the events.
    public func statistics(_ id: String) async throws -> [String: Int] {
        let reply = try await redis.send(RedisCommand("HGETALL", [.string(keys.campaignStats(id))]))
        return Self.hash(reply).compactMapValues { Int($0) }
    }

    /// Counts events of campaigns and acknowledges them in one transaction (`MULTI`), so a
    /// crash between the two cannot count an event twice.
    public func count(_ increments: [String: [String: Int]], acknowledging ids: [String], group: String, stream: String) async throws {
        var commands = [RedisCommand("MULTI", [])]
        for (campaign, fields) in increments.sorted(by: { $0.key < $1.key }) {
            for (field, n) in fields.sorted(by: { $0.key < $1.key }) {
                commands.append(RedisCommand("HINCRBY", [.string(keys.campaignStats(campaign)), .string(field), .integer(Int64(n))]))
            }
        }
        if !ids.isEmpty { commands.append(RedisCommand("XACK", [.string(stream), .string(group)] + ids.map { .string($0) })) }
        commands.append(RedisCommand("EXEC", []))
        let replies = try await redis.pipeline(commands)
        if let error = replies.compactMap(\.errorMessage).first { throw QueueError.rejected(error) }
    }

    /// Removes a final campaign and everything of it.
    public func delete(_ id: String) async throws {
        _ = try await redis.pipeline([
            RedisCommand(
                "DEL",
                [
                    .string(keys.campaign(id)), .string(keys.campaignDone(id)), .string(keys.campaignStats(id)),
                    .string(keys.campaignLease(id)),
                ]),
            RedisCommand("SREM", [.string(keys.campaigns), .string(id)]),
        ])
    }

    /// The lease a runner holds a campaign by.
    public func lease(_ id: String, token: String) -> ExclusiveLease {
        ExclusiveLease(redis: redis, key: keys.campaignLease(id), token: token)
    }

    /// The work entries waiting for `domain` in `pool` (`XLEN q:<pool>:<domain>`), for the lookahead.
    public func queuedEntries(pool: PoolName, domains: [DomainName]) async throws -> [DomainName: Int] {
        guard !domains.isEmpty else { return [:] }
        let replies = try await redis.pipeline(domains.map { RedisCommand("XLEN", [.string(keys.stream(pool: pool, domain: $0))]) })
        var out: [DomainName: Int] = [:]
        for (domain, reply) in zip(domains, replies) { out[domain] = Int(reply.int ?? 0) }
        return out
    }

    static func hash(_ reply: RESPValue) -> [String: String] {
        let items = reply.array ?? []
        var out: [String: String] = [:]
        var index = 0
        while index + 1 < items.count {
            if let k = items[index].string, let v = items[index + 1].string { out[k] = v }
            index += 2
        }
        return out
    }
}
