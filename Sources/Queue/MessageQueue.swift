import Foundation
import Logging
import NIOCore
import RedisClient
import RelayCore
import Synchronization

/// The queue in Redis (see `QueueFunctions` for the data model): ingest enqueues, workers
/// claim, settle and retry. Every step is one round trip.
public final class MessageQueue: Sendable {
    public let configuration: QueueConfiguration
    private let redis: RedisClient
    private let logger: Logger
    /// Redis clock minus local clock (ms), measured with `TIME`, and when it was measured.
    private let clockOffset = Mutex<(offset: Int64, measuredAt: Int64)?>(nil)

    public init(redis: RedisClient, configuration: QueueConfiguration = .init(), logger: Logger) {
        self.redis = redis
        self.configuration = configuration
        self.logger = logger
    }

    /// Loads the functions library; pass this as the `RedisClient`'s `onConnect` hook so that
    /// every connection (including after a Redis restart or failover) can call it.
    @Sendable public static func prepare(connection: RedisConnection) async throws {
        _ = try await connection.send(RedisCommand("FUNCTION", ["LOAD", "REPLACE", .string(QueueFunctions.source)]))
    }

    private var prefix: String { configuration.keyPrefix }
    private func key(_ suffix: String) -> String { prefix + suffix }

    // MARK: Ingest

    /// Stores one chunk of a large body being received (`APPEND`, with an expiry so a dead
    /// session leaves nothing behind).
    public func appendBody(queueID: QueueID, chunk: ByteBuffer) async throws(QueueError) {
        let tmp = key("tmp:\(queueID)")
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
        _ = try? await redis.send(RedisCommand("DEL", [.string(key("tmp:\(queueID)"))]))
    }

    /// Makes a message durable in Redis with its work items, atomically, and returns the
    /// acceptance time. Throws — having stored nothing — if Redis fails or the call cannot
    /// complete before `deadline` (local clock, ms).
    @discardableResult
    public func enqueue(_ message: NewMessage, body: MessageBody, deadline: Int64) async throws(QueueError) -> Int64 {
        let offset = try await redisClockOffset()
        // The Redis command itself gives up after `commandTimeout`; the script must refuse
        // to run after whichever comes first, less a margin for the reply's way back, so a
        // message is never stored after its client was told 451.
        let now = Clock.nowMilliseconds()
        let wait = min(deadline, now + configuration.commandTimeout.milliseconds) - now
        let scriptDeadline = now + wait - min(500, wait / 10)
        var args: [RESPArgument] = [.string(prefix), .integer(scriptDeadline + offset), .string(message.queueID.rawValue)]
        switch body {
        case .inline(let bytes):
            args += [.string(""), .bytes(bytes)]
        case .streamed:
            args += [.string(key("tmp:\(message.queueID)")), .string("")]
        }
        var accepted = DeliveryEvent(event: .accepted, time: Clock.iso8601(milliseconds: Clock.nowMilliseconds()),
                                     queueID: message.queueID.rawValue, messageID: message.messageID, sender: message.sender)
        accepted.recipients = message.recipients
        accepted.size = message.size
        accepted.clientIP = message.clientIP
        accepted.authUser = message.authUser
        args += [.integer(Int64(configuration.eventsMaxLength)), .bytes(EventCoding.encode(accepted))]

        var fields: [(String, String)] = [("sender", message.sender), ("size", String(message.size))]
        if let id = message.messageID { fields.append(("mid", id)) }
        args.append(.integer(Int64(fields.count)))
        for (name, value) in fields { args += [.string(name), .string(value)] }

        let byDomain = Dictionary(grouping: message.recipients, by: { Self.domain(of: $0) })
        args.append(.integer(Int64(byDomain.count)))
        for (domain, recipients) in byDomain.sorted(by: { $0.key < $1.key }) {
            args += [.string(domain), .integer(Int64(recipients.count))]
            args += recipients.map { .string($0) }
        }
        let reply = try await call("hk_enqueue", args)
        guard let acceptedAt = reply.int else { throw .malformed("hk_enqueue returned \(reply)") }
        return acceptedAt
    }

    /// The destination a recipient's work is keyed by: its domain, lower-cased, without a
    /// trailing dot.
    public static func domain(of address: String) -> String {
        guard let at = address.lastIndex(of: "@") else { return "" }
        var domain = address[address.index(after: at)...].lowercased()
        while domain.hasSuffix(".") { domain.removeLast() }
        return domain
    }

    /// Redis clock minus local clock, re-measured every 30 s (one `TIME` round trip).
    private func redisClockOffset() async throws(QueueError) -> Int64 {
        let now = Clock.nowMilliseconds()
        if let known = clockOffset.withLock({ $0 }), now - known.measuredAt < 30_000 {
            return known.offset
        }
        let before = Clock.nowMilliseconds()
        let reply: RESPValue
        do { reply = try await redis.send(RedisCommand("TIME", [])) } catch { throw .redis(error) }
        let after = Clock.nowMilliseconds()
        guard let parts = reply.array, parts.count == 2,
              let seconds = parts[0].string.flatMap(Int64.init), let micros = parts[1].string.flatMap(Int64.init)
        else { throw .malformed("TIME returned \(reply)") }
        let redisNow = seconds * 1000 + micros / 1000
        let offset = redisNow - (before + after) / 2
        clockOffset.withLock { $0 = (offset, after) }
        return offset
    }

    // MARK: Workers

    /// Claims up to `batchSize` work items for the first due destination.
    public func claim(consumer: String, batchSize: Int, claimTimeout: Duration, lease: Duration) async throws(QueueError) -> ClaimResult {
        let reply = try await call("hk_claim", [
            .string(prefix), .string(consumer), .integer(Int64(batchSize)),
            .integer(claimTimeout.milliseconds), .integer(lease.milliseconds),
        ])
        guard let parts = reply.array, let domain = parts.first?.string else {
            throw .malformed("hk_claim returned \(reply)")
        }
        if domain.isEmpty {
            let next = parts.count > 1 ? parts[1].int : nil
            return .idle(nextDueAt: next.flatMap { $0 < 0 ? nil : $0 })
        }
        var items: [WorkItem] = []
        for entry in parts.dropFirst() {
            guard let pair = entry.array, pair.count == 2, let id = pair[0].string, let fields = pair[1].array else { continue }
            var map: [String: String] = [:]
            var index = 0
            while index + 1 < fields.count {
                if let name = fields[index].string { map[name] = fields[index + 1].string }
                index += 2
            }
            guard let qid = map["q"], let recipients = map["r"] else {
                logger.error("malformed work entry; skipping", metadata: ["entry": "\(id)", "domain": "\(domain)"])
                continue
            }
            items.append(WorkItem(entryID: id, queueID: QueueID(rawValue: qid),
                                  recipients: recipients.split(separator: "\n").map(String.init),
                                  previousAttempts: Int(map["n"] ?? "0") ?? 0,
                                  acceptedAt: Int64(map["t"] ?? "0") ?? 0))
        }
        return .batch(ClaimedBatch(domain: domain, items: items))
    }

    /// Loads the envelope and body of each message (one pipelined round trip). Messages
    /// that no longer exist are absent from the result.
    public func loadMessages(_ ids: [QueueID]) async throws(QueueError) -> [QueueID: StoredMessage] {
        var commands: [RedisCommand] = []
        for id in ids {
            commands.append(RedisCommand("HMGET", [.string(key("msg:\(id)")), "sender", "mid", "accepted"]))
            commands.append(RedisCommand("GET", [.string(key("body:\(id)"))]))
        }
        let replies: [RESPValue]
        do { replies = try await redis.pipeline(commands) } catch { throw .redis(error) }
        var out: [QueueID: StoredMessage] = [:]
        for (index, id) in ids.enumerated() {
            guard let envelope = replies[2 * index].array, envelope.count == 3,
                  let sender = envelope[0].string, let body = replies[2 * index + 1].buffer else { continue }
            out[id] = StoredMessage(queueID: id, sender: sender, messageID: envelope[1].string,
                                    acceptedAt: envelope[2].string.flatMap { Int64($0) } ?? 0, body: body)
        }
        return out
    }

    /// Records outcomes and acknowledges the items in one atomic step. Returns how many
    /// items were still this worker's to settle (others were taken over and are ignored).
    @discardableResult
    public func complete(consumer: String, domain: String, outcomes: [WorkOutcome]) async throws(QueueError) -> Int {
        var args: [RESPArgument] = [.string(prefix), .string(consumer), .string(domain), .integer(Int64(configuration.eventsMaxLength)), .integer(Int64(outcomes.count))]
        for outcome in outcomes {
            let item = outcome.item
            args += [.string(item.entryID), .string(item.queueID.rawValue), .integer(Int64(outcome.finalCount))]
            if let retry = outcome.retry, !retry.recipients.isEmpty {
                let member = [item.entryID, domain, item.queueID.rawValue, String(item.previousAttempts + 1),
                              String(item.acceptedAt), retry.recipients.joined(separator: "\n")].joined(separator: "\t")
                args += [.string(member), .integer(retry.dueAt + (clockOffset.withLock { $0?.offset } ?? 0))]
            } else {
                args += [.string(""), .integer(0)]
            }
            args.append(.integer(Int64(outcome.events.count)))
            args += outcome.events.map { .bytes(EventCoding.encode($0)) }
        }
        let reply = try await call("hk_complete", args)
        return Int(reply.int ?? 0)
    }

    /// Keeps a long-running batch's claim fresh (`XCLAIM … JUSTID` resets the idle time
    /// without counting a new delivery), so it is not taken over while still in progress.
    public func refreshClaims(consumer: String, domain: String, entryIDs: [String]) async throws(QueueError) {
        guard !entryIDs.isEmpty else { return }
        let command = RedisCommand("XCLAIM", [.string(key("q:\(domain)")), "workers", .string(consumer), 0]
                                   + entryIDs.map { .string($0) } + ["JUSTID"])
        do { _ = try await redis.send(command) } catch { throw .redis(error) }
    }

    /// Moves deferred work that is due back into its destination's stream.
    @discardableResult
    public func promoteDue(limit: Int = 1000) async throws(QueueError) -> Int {
        Int(try await call("hk_promote", [.string(prefix), .integer(Int64(limit))]).int ?? 0)
    }

    // MARK: Plumbing

    private func call(_ function: String, _ args: [RESPArgument]) async throws(QueueError) -> RESPValue {
        let reply: RESPValue
        do {
            reply = try await redis.send(RedisCommand("FCALL", [.string(function), .integer(0)] + args))
        } catch let error as RedisError {
            if let message = error.serverMessage {
                if message.hasPrefix("DEADLINE") { throw .deadlinePassed }
                throw .rejected(message)
            }
            throw .redis(error)
        } catch {
            throw .redis(error)
        }
        return reply
    }
}

extension Duration {
    var milliseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1000 + attoseconds / 1_000_000_000_000_000
    }
}
