import Logging
import RedisClient
import RelayCore

/// Operator controls over the queue (`hikyaku queue`, `suspend`, `resume`, `retry-now`,
/// `bounce`, `purge`), on the data model of docs/KEY-LAYOUT.md, through the `hikyaku_admin`
/// functions (`Sources/Queue/Lua/hikyaku_admin.lua`) that `MessageQueue.prepare` loads.
///
/// Nothing here holds Redis for long: keys are found with `SCAN`, sorted sets read with
/// `ZSCAN`, and every change is one atomic function call over at most ``chunkSize``
/// entries, repeated until done. Work a worker holds at that moment is never touched.
public struct QueueAdmin: Sendable {
    /// `node` of the events operator actions write.
    public static let node = "operator"
    /// `rule` of the backoff events `suspend` and `resume` write.
    public static let rule = "operator"

    public let configuration: QueueConfiguration
    /// Most entries (or deferred items) one function call handles. Default 500.
    public var chunkSize: Int
    private let redis: RedisClient
    private let logger: Logger

    public init(redis: RedisClient, configuration: QueueConfiguration = .init(), chunkSize: Int = 500, logger: Logger) {
        self.redis = redis
        self.configuration = configuration
        self.chunkSize = max(1, chunkSize)
        self.logger = logger
    }

    var keys: QueueKeys { configuration.keys }
    private var maxLength: RESPArgument { .integer(Int64(configuration.eventsMaxLength)) }

    // MARK: Suspend, resume

    /// Suspends sending to a site, or from an IP (to one site or all), for `duration`,
    /// replacing any suspension of the same target, and records a `backoff` event
    /// (action `suspend_site` or `suspend_ip`, rule `operator`). Workers see it at their
    /// next claim (`ClaimResult.wait`, reason `suspended`); a batch in progress finishes.
    ///
    /// ```
    /// C: FCALL hka_suspend 2 hk:susp:site:gmail hk:events 1800000 1000000 {"event":"backoff",…}
    /// S: :1
    /// ```
    @discardableResult
    public func suspend(_ target: SuspensionTarget, for duration: Duration, reason: String?) async throws(QueueError) -> DeliveryEvent {
        let now = WallClock.nowMilliseconds()
        var event = backoffEvent(action: "suspend_\(target.actionNoun)", target: target, at: now)
        event.reply = reason ?? "suspended by operator"
        event.until = WallClock.iso8601(milliseconds: now + duration.milliseconds)
        // With the limit keys in a slot of their own the event follows in its own call.
        let encoded = EventCoding.encode(event)
        _ = try await redis.adminCall(
            "hka_suspend", keys: [target.key(keys)] + (keys.splitClaim ? [] : [keys.events]),
            [.integer(duration.milliseconds), maxLength, .bytes(encoded)])
        if keys.splitClaim { _ = try await redis.adminSend(EventCoding.add(encoded, to: configuration)) }
        logger.notice("suspended \(target) for \(duration)")
        return event
    }

    /// Lifts a suspension (set by an operator or by adaptive backoff) and records a
    /// `backoff` event (action `resume_site` or `resume_ip`, rule `operator`). Destinations
    /// that were put back in the ready index to wait it out are made due now.
    public func resume(_ target: SuspensionTarget) async throws(QueueError) -> ResumeResult {
        var event = backoffEvent(action: "resume_\(target.actionNoun)", target: target, at: WallClock.nowMilliseconds())
        event.reply = "resumed by operator"
        let encoded = EventCoding.encode(event)
        let reply = try await redis.adminCall(
            "hka_resume", keys: [target.key(keys)] + (keys.splitClaim ? [] : [keys.events]),
            [maxLength, .bytes(encoded)])
        guard let left = reply.int else { throw .malformed("hka_resume returned \(reply)") }
        if left == -2 { return ResumeResult(wasSuspended: false, remainingMilliseconds: nil, destinationsMadeDue: 0) }
        if keys.splitClaim { _ = try await redis.adminSend(EventCoding.add(encoded, to: configuration)) }
        // hk_claim re-scored a suspended destination to (at most) the suspension's end.
        let window = left < 0 ? -1 : left + 1000
        var madeDue = 0
        for pool in try await pools() {
            madeDue += try await bringForward(pool: pool, windowMilliseconds: window)
        }
        logger.notice("resumed \(target)")
        return ResumeResult(wasSuspended: true, remainingMilliseconds: left < 0 ? nil : left, destinationsMadeDue: madeDue)
    }

    private func backoffEvent(action: String, target: SuspensionTarget, at now: Int64) -> DeliveryEvent {
        var event = DeliveryEvent(event: .backoff, time: WallClock.iso8601(milliseconds: now), queueID: "", messageID: nil, sender: "")
        switch target {
        case .site(let site):
            event.site = site
        case .ip(let egress, let site):
            event.egressIP = egress
            event.site = site
        }
        event.action = action
        event.rule = Self.rule
        event.node = Self.node
        return event
    }

    // MARK: Retry now

    /// Moves every deferred item (of `pool` and `domain`, nil: all) back into its stream
    /// now, keeping its attempt count, and makes the destinations due now (all of the
    /// pool's destinations when no domain is given, including ones waiting out a rate
    /// limit: a worker re-scores those at its next claim).
    ///
    /// ```
    /// C: FCALL hka_promote_members 5 hk:deferred hk:q:default:a.example hk:ready:default … <member> <member>
    /// S: *2 :2 :5   (items, recipients)
    /// C: FCALL hka_bring_forward 1 hk:ready:default -1 500
    /// S: :3
    /// ```
    public func retryNow(pool: PoolName? = nil, domain: DomainName? = nil) async throws(QueueError) -> RetryNowResult {
        var result = RetryNowResult()
        let keys = self.keys
        let redis = self.redis
        try await forEachDeferredChunk(pool: pool, domain: domain) { (members: [DeferredMember]) throws(QueueError) in
            let declared =
                [keys.deferred]
                + members.flatMap { [keys.stream(pool: $0.pool, domain: $0.domain), keys.ready(pool: $0.pool)] }
            let reply = try await redis.adminCall("hka_promote_members", keys: declared, members.map { .string($0.rawValue) })
            guard let counts = reply.array, counts.count == 2, let items = counts[0].int, let recipients = counts[1].int else {
                throw .malformed("hka_promote_members returned \(reply)")
            }
            result.items += Int(items)
            result.recipients += Int(recipients)
        }
        for pool in try await pools(only: pool) {
            if let domain {
                let reply = try await redis.adminCall(
                    "hka_ready_now", keys: [keys.stream(pool: pool, domain: domain), keys.ready(pool: pool)],
                    [.string(domain.rawValue)])
                result.destinationsMadeDue += Int(reply.int ?? 0)
            } else {
                result.destinationsMadeDue += try await bringForward(pool: pool, windowMilliseconds: -1)
            }
        }
        logger.notice("retry now: \(result.items) deferred item(s), \(result.recipients) recipient(s)")
        return result
    }

    /// Makes the pool's destinations scored within `windowMilliseconds` after now (-1: any
    /// time) due now, a chunk per call. Returns how many.
    private func bringForward(pool: PoolName, windowMilliseconds: Int64) async throws(QueueError) -> Int {
        var total = 0
        while true {
            let reply = try await redis.adminCall(
                "hka_bring_forward", keys: [keys.ready(pool: pool)],
                [.integer(windowMilliseconds), .integer(Int64(chunkSize))])
            let moved = Int(reply.int ?? 0)
            total += moved
            if moved < chunkSize { return total }
        }
    }

    // MARK: Bounce, purge

    /// `hikyaku bounce`: every recipient queued or deferred for `domain` (in `pool`, or in
    /// every pool) gets a final `bounced` event, reply `550 5.0.0 <reason>`.
    public func bounce(domain: DomainName, pool: PoolName? = nil, reason: String? = nil) async throws(QueueError) -> RemovalResult {
        try await remove(.bounce(reason: reason), domain: domain, pool: pool)
    }

    /// `hikyaku purge`: as `bounce`, with `purged` events, reply `purged by operator: <reason>`.
    public func purge(domain: DomainName, pool: PoolName? = nil, reason: String? = nil) async throws(QueueError) -> RemovalResult {
        try await remove(.purge(reason: reason), domain: domain, pool: pool)
    }

    /// Ends every recipient queued (in a stream entry no worker holds) or deferred for
    /// `domain`: one final event each (with queue id, Message-ID and sender from
    /// `msg:<qid>`, `node` = `operator`), the entries removed (`XACK` + `XDEL`, `ZREM`),
    /// `remaining` and `depth:<pool>` decremented, and message and body deleted with
    /// their last recipient — as `hk_complete` does for a worker. Entries a worker holds
    /// are counted in `claimedEntries` and left alone; run it again once they settle.
    ///
    /// ```
    /// C: FCALL hka_remove_deferred 5 hk:deferred hk:events hk:depth:default hk:msg:<qid> hk:body:<qid>
    ///      bounced "550 5.0.0 Bounced by operator" operator 1000000 <member>
    /// S: *3  :1 :2 :1                (items, recipients, messages deleted)
    /// C: FCALL hka_remove_queued 4 hk:q:default:example.net hk:ready:default hk:depth:default hk:events
    ///      example.net bounced "550 5.0.0 Bounced by operator" operator 1000000 "" 500 hk:msg: hk:body:
    /// S: *6  $0  :2 :3 :1 :1 :1      (done; 2 entries / 3 recipients removed, 1 / 1 claimed, 1 message deleted)
    /// ```
    public func remove(_ removal: OperatorRemoval, domain: DomainName, pool: PoolName? = nil) async throws(QueueError) -> RemovalResult {
        var result = RemovalResult()
        let common: [RESPArgument] = [.string(removal.eventKind.rawValue), .string(removal.reply), .string(Self.node), maxLength]
        // Deferred work first: an item promoted meanwhile is then caught in its stream.
        let keys = self.keys
        let redis = self.redis
        try await forEachDeferredChunk(pool: pool, domain: domain) { (members: [DeferredMember]) throws(QueueError) in
            let declared =
                [keys.deferred, keys.events]
                + members.flatMap {
                    [keys.depth(pool: $0.pool), keys.message($0.queueID), keys.body($0.queueID)]
                }
            let reply = try await redis.adminCall("hka_remove_deferred", keys: declared, common + members.map { .string($0.rawValue) })
            guard let parts = reply.array, parts.count == 3 else { throw .malformed("hka_remove_deferred returned \(reply)") }
            let counts = parts.map { Int($0.int ?? 0) }
            result.deferredItems += counts[0]
            result.deferredRecipients += counts[1]
            result.messagesDeleted += counts[2]
        }
        for pool in try await pools(only: pool) {
            var cursor = ""
            repeat {
                let reply = try await redis.adminCall(
                    "hka_remove_queued",
                    keys: [keys.stream(pool: pool, domain: domain), keys.ready(pool: pool), keys.depth(pool: pool), keys.events],
                    [.string(domain.rawValue)] + common + [
                        .string(cursor), .integer(Int64(chunkSize)), .string(keys.messageStem), .string(keys.bodyStem),
                    ])
                guard let parts = reply.array, parts.count == 6, let next = parts[0].string else {
                    throw .malformed("hka_remove_queued returned \(reply)")
                }
                let counts = parts.dropFirst().map { Int($0.int ?? 0) }
                result.queuedEntries += counts[0]
                result.queuedRecipients += counts[1]
                result.claimedEntries += counts[2]
                result.claimedRecipients += counts[3]
                result.messagesDeleted += counts[4]
                cursor = next
            } while !cursor.isEmpty
        }
        logger.notice(
            "\(removal.eventKind.rawValue) \(domain): \(result.recipients) recipient(s), \(result.claimedEntries) claimed entr(ies) left")
        return result
    }

    // MARK: Shared

    /// Every pool that has (or had) mail: `depth:<pool>` counters and `ready:<pool>` sets.
    func pools() async throws(QueueError) -> [PoolName] {
        var names = Set<PoolName>()
        for start in [keys.depthStem, keys.readyStem] {
            for key in try await redis.scanKeys(matching: start.globEscaped + "*") {
                names.insert(PoolName(rawValue: String(key.dropFirst(start.count))))
            }
        }
        return names.sorted()
    }

    /// `[pool]`, or every pool when nil.
    func pools(only pool: PoolName?) async throws(QueueError) -> [PoolName] {
        if let pool { return [pool] }
        return try await pools()
    }

    /// Walks the `deferred` set (`ZSCAN`) and hands the members of `pool` and `domain`
    /// (nil: any) to `body`, at most ``chunkSize`` at a time.
    func forEachDeferredChunk(
        pool: PoolName?, domain: DomainName?,
        _ body: ([DeferredMember]) async throws(QueueError) -> Void
    ) async throws(QueueError) {
        var chunk: [DeferredMember] = []
        try await redis.scanSortedSet(keys.deferred) { (page: [(member: String, score: Double)]) throws(QueueError) in
            for entry in page {
                guard let member = DeferredMember(rawValue: entry.member), member.matches(pool: pool, domain: domain) else { continue }
                chunk.append(member)
                if chunk.count >= chunkSize {
                    try await body(chunk)
                    chunk.removeAll()
                }
            }
        }
        if !chunk.isEmpty { try await body(chunk) }
    }

    var client: RedisClient { redis }
}
