import Foundation
import Logging
import NIOCore
import RedisClient
import RelayCore
import SMTPProtocol
import Synchronization

/// The queue in Redis (data model: `QueueKeys` and docs/KEY-LAYOUT.md; steps:
/// `Sources/Queue/Lua/hikyaku.lua`): ingest enqueues, workers claim, settle and retry.
/// Every step is one round trip.
public final class MessageQueue: Sendable {
    public let configuration: QueueConfiguration
    let redis: RedisClient
    let logger: Logger
    /// Redis clock minus local clock (ms), measured with `TIME`, and when it was measured.
    let clockOffset = Mutex<(offset: Int64, measuredAt: Int64)?>(nil)

    public init(redis: RedisClient, configuration: QueueConfiguration = .init(), logger: Logger) {
        self.redis = redis
        self.configuration = configuration
        self.logger = logger
    }

    /// Makes sure the functions libraries (the queue's `hikyaku`, the operator's
    /// `hikyaku_admin`, see `QueueAdmin`, and `hikyaku_accounts`, see `AccountStore`) of this
    /// version are loaded (``FunctionLibraries``); pass this as the `RedisClient`'s
    /// `onConnect` hook so that every connection (including after a Redis restart or
    /// failover) can call them.
    @Sendable public static func prepare(connection: RedisConnection) async throws {
        try await FunctionLibraries.ensureLoaded(on: connection)
    }

    /// The events stream of this queue, for readers (the HTTP API, `events tail`).
    public var eventLog: EventLog { EventLog(redis: redis, configuration: configuration) }

    /// Campaigns and recipient lists in this queue's Redis.
    public var campaigns: CampaignStore { CampaignStore(redis: redis, configuration: configuration) }
    public var lists: ListStore { ListStore(redis: redis, configuration: configuration) }

    /// The names of every key (`queue.key_prefix`).
    var keys: QueueKeys { configuration.keys }

    // MARK: Ingest

    /// Stores one chunk of a large body being received (`APPEND`, with an expiry so a dead
    /// session leaves nothing behind).
    public func appendBody(queueID: QueueID, chunk: ByteBuffer) async throws(QueueError) {
        let tmp = keys.streamedBody(queueID)
        let replies: [RESPValue]
        do {
            replies = try await redis.pipeline([
                RedisCommand("APPEND", [.string(tmp), .bytes(chunk)]),
                RedisCommand("EXPIRE", [.string(tmp), .integer(Int64(configuration.streamedBodyTTLSeconds))]),
            ])
        } catch {
            throw .redis(error)
        }
        if case .error(let text) = replies.first { throw .rejected(text) }
    }

    /// Forgets a partly streamed body (best effort; it expires anyway).
    public func discardBody(queueID: QueueID) async {
        _ = try? await redis.send(RedisCommand("DEL", [.string(keys.streamedBody(queueID))]))
    }

    /// Makes a message durable in Redis with its work items, atomically, and returns the
    /// acceptance time. Throws — having stored nothing — if Redis fails or the call cannot
    /// complete before `deadline` (local clock, ms).
    ///
    /// Recipients on the account's or the global suppression list are dropped in the same
    /// step, each with a `suppressed` event; if none is left it throws
    /// ``QueueError/isAllSuppressed`` (nothing stored).
    @discardableResult
    public func enqueue(_ message: NewMessage, body: MessageBody, deadline: Int64) async throws(QueueError) -> EnqueueResult {
        let offset = try await redisClockOffset()
        // The Redis command itself gives up after `commandTimeout`; the script must refuse
        // to run after whichever comes first, less a margin for the reply's way back, so a
        // message is never stored after its client was told 451.
        let now = WallClock.nowMilliseconds()
        let wait = min(deadline, now + configuration.commandTimeout.milliseconds) - now
        let scriptDeadline = now + wait - min(500, wait / 10)
        let keys = self.keys
        let id = message.queueID
        var args: [RESPArgument] = [.integer(scriptDeadline + offset), .string(id.rawValue)]
        switch body {
        case .inline(let bytes):
            args += ["0", .bytes(bytes)]
        case .streamed:
            args += ["1", ""]
        }
        var accepted = DeliveryEvent(
            event: .accepted, time: WallClock.iso8601(milliseconds: WallClock.nowMilliseconds()),
            queueID: message.queueID.rawValue, messageID: message.messageID,
            sender: EnvelopeCoding.field(message.sender))
        accepted.recipients = message.recipients.map(\.description)
        accepted.size = message.size
        accepted.clientIP = message.clientIP
        accepted.authUser = message.authUser
        accepted.account = message.account?.name
        message.labels?.label(&accepted)
        args += [.integer(Int64(configuration.eventsMaxLength)), .bytes(EventCoding.encode(accepted)), .string(message.pool.rawValue)]

        var fields: [(String, String)] = [("sender", EnvelopeCoding.field(message.sender)), ("size", String(message.size))]
        if let id = message.messageID { fields.append(("mid", id)) }
        if let account = message.account { fields.append(("acct", account.name)) }
        if let added = message.addedHeader { fields.append(("hdr", added)) }
        if let labels = message.labels, !labels.isEmpty, let json = try? JSONEncoder().encode(labels) {
            fields.append(("tm", String(decoding: json, as: UTF8.self)))
        }
        if let domain = message.returnPathDomain { fields.append(("v", domain)) }
        if message.notifySender { fields.append(("dsn", "1")) }
        args.append(.integer(Int64(fields.count)))
        for (name, value) in fields { args += [.string(name), .string(value)] }

        var declared = [
            keys.message(id), keys.body(id), keys.streamedBody(id), keys.ready(pool: message.pool),
            keys.depth(pool: message.pool), keys.events, keys.wake(pool: message.pool),
        ]
        let byDomain = Dictionary(grouping: message.recipients, by: \.destination)
        args.append(.integer(Int64(byDomain.count)))
        var ordered: [String] = []
        for (domain, recipients) in byDomain.sorted(by: { $0.key < $1.key }) {
            declared.append(keys.stream(pool: message.pool, domain: domain))
            args += [.string(domain.rawValue), .integer(Int64(recipients.count))]
            args += recipients.map { .string($0.description) }
            ordered += recipients.map(\.description)
        }
        let account = message.account?.name ?? ""
        let list: SuppressionScope = message.account.map { .account($0.name) } ?? .global
        declared += [
            keys.suppression(list), keys.suppressionExpiry(list), keys.suppression(.global), keys.suppressionExpiry(.global),
        ]
        var suppressed = DeliveryEvent(
            event: .suppressed, time: accepted.time, queueID: message.queueID.rawValue, messageID: message.messageID,
            sender: accepted.sender)
        suppressed.recipient = "%RCPT%"
        suppressed.suppression = "%REASON%"
        suppressed.account = message.account?.name
        message.labels?.label(&suppressed)
        args += [
            .string(account), .integer(Int64(message.account?.hourly ?? -1)),
            .integer(Int64(message.account?.daily ?? -1)), .string(keys.quotaStem(account: account)),
            .bytes(EventCoding.encode(suppressed)),
        ]
        // VERP: the recipient index, written in the same step (its order defines the tokens' indexes).
        if message.returnPathDomain != nil {
            declared.append(keys.recipientIndex(id))
            let index = [
                ("a", account), ("s", EnvelopeCoding.field(message.sender)), ("m", message.messageID ?? ""),
                ("r", ordered.joined(separator: "\n")),
            ]
            // A backstop expiry (hk_complete sets the real one): an index whose message is
            // purged by an operator must not stay forever.
            args += [.integer(Int64(index.count)), .integer(Int64(configuration.recipientIndexBackstopSeconds))]
            for (name, value) in index { args += [.string(name), .string(value)] }
        } else {
            args.append(.integer(0))
        }
        if let once = message.once {
            declared += [keys.campaignDone(once.campaign), keys.campaignStats(once.campaign)]
            args.append(.integer(Int64(once.row)))
        } else {
            args.append(.integer(-1))
        }
        let reply: RESPValue
        if configuration.waitReplicas > 0 {
            // WAIT on the same connection right after the write: it returns once that many
            // replicas have everything written so far, or at the timeout with how many had.
            let replies: [RESPValue]
            do {
                replies = try await redis.pipeline([
                    Self.fcall("hk_enqueue", keys: declared, args),
                    RedisCommand("WAIT", [.integer(Int64(configuration.waitReplicas)), .integer(configuration.waitTimeout.milliseconds)]),
                ])
            } catch {
                throw Self.queueError(error)
            }
            if case .error(let message) = replies[0] { throw Self.queueError(message) }
            let confirmed = Int(replies[1].int ?? 0)
            if confirmed < configuration.waitReplicas {
                throw QueueError(code: .notReplicated(confirmed: confirmed, wanted: configuration.waitReplicas))
            }
            reply = replies[0]
        } else {
            reply = try await call("hk_enqueue", keys: declared, args)
        }
        guard let parts = reply.array, let acceptedAt = parts.first?.int else { throw .malformed("hk_enqueue returned \(reply)") }
        var dropped: [SuppressedRecipient] = []
        for index in stride(from: 1, to: parts.count - 1, by: 2) {
            dropped.append(SuppressedRecipient(address: parts[index].string ?? "", reason: parts[index + 1].string ?? ""))
        }
        return EnqueueResult(acceptedAt: acceptedAt, suppressed: dropped)
    }

    /// Redis clock minus local clock, re-measured every 30 s (one `TIME` round trip).
    private func redisClockOffset() async throws(QueueError) -> Int64 {
        let now = WallClock.nowMilliseconds()
        if let known = clockOffset.withLock({ $0 }), now - known.measuredAt < 30_000 {
            return known.offset
        }
        let reply: RESPValue
        let before: Int64
        do {
            // The first command may also open a connection and load the functions; time
            // only a round trip on an open one.
            _ = try await redis.send(RedisCommand("PING", []))
            before = WallClock.nowMilliseconds()
            reply = try await redis.send(RedisCommand("TIME", []))
        } catch {
            throw .redis(error)
        }
        let after = WallClock.nowMilliseconds()
        guard let parts = reply.array, parts.count == 2,
            let seconds = parts[0].string.flatMap(Int64.init), let micros = parts[1].string.flatMap(Int64.init)
        else { throw .malformed("TIME returned \(reply)") }
        let redisNow = seconds * 1000 + micros / 1000
        let offset = redisNow - (before + after) / 2
        clockOffset.withLock { $0 = (offset, after) }
        return offset
    }

    // MARK: Plumbing

    /// `FCALL function numkeys key… arg…`: every key the function touches is declared
    /// (docs/KEY-LAYOUT.md), as Redis Cluster and the ACL key checks need.
    func call(_ function: String, keys: [String], _ args: [RESPArgument]) async throws(QueueError) -> RESPValue {
        do {
            return try await redis.send(Self.fcall(function, keys: keys, args))
        } catch {
            throw Self.queueError(error)
        }
    }

    static func fcall(_ function: String, keys: [String], _ args: [RESPArgument]) -> RedisCommand {
        RedisCommand("FCALL", [.string(function), .integer(Int64(keys.count))] + keys.map { .string($0) } + args)
    }

    static func queueError(_ error: any Error) -> QueueError {
        if let error = error as? RedisError, let message = error.serverMessage { return queueError(message) }
        return .redis(error)
    }

    /// An error reply of the functions: `DEADLINE …`, `QUOTA …`, or anything else.
    static func queueError(_ message: String) -> QueueError {
        if message.hasPrefix("DEADLINE") { return .deadlinePassed }
        if message.hasPrefix("SUPPRESSED") { return QueueError(code: .allSuppressed) }
        if message.hasPrefix("ONCE") { return QueueError(code: .alreadyEnqueued) }
        if let quota = QueueError.quota(message) { return quota }
        return .rejected(message)
    }
}
