import Foundation
import Logging
import NIOCore
import RedisClient
import RelayCore
import SMTPProtocol

/// The worker's steps on the queue: take a due destination, claim a batch under the
/// limits, keep it, give back what was not tried, record outcomes, move due retries back.
/// Each is one Redis function call (`Sources/Queue/Lua/hikyaku.lua`).
extension MessageQueue {

    /// The first destination of `pool` that is due, held for `hold` so other workers move
    /// on while this one looks up its site and calls `claim`. `passOn`: the caller has no
    /// idle loop left to look for more, so when another destination is due too a wake token
    /// is left for another worker. With the limit keys in a slot of their own
    /// (``QueueKeys/splitClaim``) it also names the IPs with entries parked for them.
    public func next(pool: PoolName, hold: Duration, passOn: Bool = false) async throws(QueueError) -> NextDestination {
        var args: [RESPArgument] = [.integer(hold.milliseconds), .integer(passOn ? 1 : 0)]
        if keys.splitClaim { args.append(.string(keys.streamStem + pool.rawValue + ":")) }
        let reply = try await call("hk_next", keys: [keys.ready(pool: pool), keys.wake(pool: pool)], args)
        guard let parts = reply.array, let domain = parts.first?.string else { throw .malformed("hk_next returned \(reply)") }
        if domain.isEmpty {
            let next = parts.count > 1 ? parts[1].int : nil
            return .idle(nextDueAt: next.flatMap { $0 < 0 ? nil : $0 })
        }
        return .domain(DomainName(rawValue: domain), parkedFor: parts.dropFirst().compactMap { $0.string.map(EgressID.init(rawValue:)) })
    }

    /// Claims up to `batchSize` work items of `domain` to send from the first candidate IP
    /// the limits allow, charging the limits; or tells how long to wait.
    /// `gather`: after a batch that took everything, how long new mail for the destination
    /// gathers before it is due again. `holding`: the connection the caller still has open
    /// to this destination — reused (no new lease, no connection limits) when its IP is
    /// chosen, its lease given back when another is. `parked`: the IPs with entries of the
    /// destination parked for them (``NextDestination``, ``ClaimedBatch/parkedFor``), tried
    /// first; only needed with ``QueueKeys/splitClaim`` (`hk_claim` reads them itself).
    public func claim(
        pool: PoolName, domain: DomainName, site: SiteName, consumer: String, batchSize: Int,
        claimTimeout: Duration, siteRate: Rate?, gather: Duration = .milliseconds(50),
        holding: HeldConnection? = nil, parked: [EgressID] = [],
        candidates: [EgressCandidate]
    ) async throws(QueueError) -> ClaimResult {
        let day = WallClock.nowMilliseconds() / 86_400_000
        let request = ClaimRequest(
            keys: keys, pool: pool, domain: domain, site: site, consumer: consumer, batchSize: batchSize,
            claimTimeout: claimTimeout, siteRate: siteRate, gather: gather, holding: holding, candidates: candidates, day: day)
        if keys.splitClaim { return try await splitClaim(request, parked: parked) }
        let keys = self.keys
        let declared =
            [
                keys.ready(pool: pool), keys.stream(pool: pool, domain: domain), keys.suspendedSite(site),
                keys.siteRate(site: site), keys.scanned(pool: pool, domain: domain), keys.leaseSequence,
                keys.leases(consumer: consumer), keys.wake(pool: pool), keys.egressLive,
            ] + request.candidateKeys
        let args: [RESPArgument] =
            [
                .string(domain.rawValue), .string(site.rawValue), .string(consumer),
                .integer(Int64(batchSize)), .integer(claimTimeout.milliseconds), .integer(claimTimeout.milliseconds),
                .integer(siteRate?.intervalMicroseconds ?? 0), .integer(Int64(siteRate?.burst ?? 1)),
                .integer(gather.milliseconds), .string(holding?.unit.egress.rawValue ?? ""), .string(holding?.lease.rawValue ?? ""),
                .integer(Int64(candidates.count)),
            ] + request.candidateArguments
        return try request.result(of: try await call("hk_claim", keys: declared, args), function: "hk_claim", logger: logger)
    }

    /// A claim whose limit keys have a slot of their own: charge the limits for the most the
    /// batch may take (`hk_claim_limits`), take at most that (`hk_claim_entries`), refund
    /// what was not taken (`hk_claim_settle`). Never more is sent than charged, so no
    /// limit is exceeded; until the refund a limit looks more used than it is.
    private func splitClaim(_ request: ClaimRequest, parked: [EgressID]) async throws(QueueError) -> ClaimResult {
        let keys = self.keys
        let site = request.site
        let limitKeys =
            [
                keys.suspendedSite(site), keys.siteRate(site: site), keys.leaseSequence, keys.leases(consumer: request.consumer),
                keys.egressLive,
            ] + request.candidateKeys
        let limitArgs: [RESPArgument] =
            [
                .string(site.rawValue), .string(request.consumer), .integer(Int64(request.batchSize)),
                .integer(request.claimTimeout.milliseconds), .integer(request.siteRate?.intervalMicroseconds ?? 0),
                .integer(Int64(request.siteRate?.burst ?? 1)), .string(request.holding?.unit.egress.rawValue ?? ""),
                .string(request.holding?.lease.rawValue ?? ""), .integer(Int64(parked.count)),
            ] + parked.map { .string($0.rawValue) } + [.integer(Int64(request.candidates.count))] + request.candidateArguments
        let limits = try await call("hk_claim_limits", keys: limitKeys, limitArgs)
        guard let decided = limits.array, decided.count >= 3, let ip = decided[0].string else {
            throw .malformed("hk_claim_limits returned \(limits)")
        }
        let entryKeys = claimEntryKeys(pool: request.pool, domain: request.domain)
        var entryArgs: [RESPArgument] = [
            .string(request.domain.rawValue), .string(request.consumer), .integer(request.claimTimeout.milliseconds),
            .integer(request.gather.milliseconds), .string(ip),
        ]
        guard !ip.isEmpty else {
            // Nothing may be sent now: the entries step re-scores the destination by the wait.
            entryArgs += [.integer(decided[1].int ?? 1), .string(decided[2].string ?? "")]
            let reply = try await call("hk_claim_entries", keys: entryKeys, entryArgs)
            guard let pair = reply.array, pair.count == 2 else { throw .malformed("hk_claim_entries returned \(reply)") }
            return try request.result(of: pair[0], function: "hk_claim_entries", logger: logger)
        }
        guard decided.count >= 6, let charged = decided[1].int, let lease = decided[2].string, let ipInterval = decided[4].int,
            let nunusable = decided[5].int.map(Int.init), decided.count >= 6 + nunusable
        else { throw .malformed("hk_claim_limits returned \(limits)") }
        entryArgs += [.integer(charged), .integer(decided[3].int ?? -1), .integer(Int64(nunusable))]
        entryArgs += decided.dropFirst(6).map { .string($0.string ?? "") }
        let chosen = EgressID(rawValue: ip)
        let settle = Settlement(
            request: request, egress: chosen, charged: charged, lease: lease, ipInterval: ipInterval)
        let entries: RESPValue
        do {
            entries = try await call("hk_claim_entries", keys: entryKeys, entryArgs)
        } catch {
            // Nothing was taken as far as this worker knows: give the charge back (if the
            // step did take entries, they are pending and taken over after the claim timeout).
            try? await self.settle(settle, taken: 0)
            throw error
        }
        guard let pair = entries.array, pair.count == 2 else { throw .malformed("hk_claim_entries returned \(entries)") }
        var result = try request.result(of: pair[0], function: "hk_claim_entries", logger: logger, lease: lease)
        let taken: Int64
        if case .batch(var batch) = result {
            batch.parkedFor = (pair[1].array ?? []).compactMap { $0.string.map(EgressID.init(rawValue:)) }
            taken = Int64(pair[0].array.map { $0.count - 4 } ?? 0)
            result = .batch(batch)
        } else {
            taken = 0
        }
        // Settled when something was charged and not taken (a lease taken for nothing among
        // it: `charged` is at least 1), or a held lease of another IP is to be given back.
        let reused = request.holding?.lease.rawValue == lease
        if taken < charged || (request.holding != nil && !reused) {
            do { try await self.settle(settle, taken: taken) } catch {
                // The charge stays (only ever too much) and a lease unused expires by itself.
                logger.warning("cannot refund a claim's unused limits for \(request.domain): \(error)")
            }
        }
        return result
    }

    /// Makes a destination due again after `after` — for a claim that failed (a Redis
    /// error) after `next` held the destination: the queue's side re-scores it as a limits
    /// wait would (`hk_claim_entries` with no IP).
    public func retryClaim(pool: PoolName, domain: DomainName, after: Duration) async throws(QueueError) {
        _ = try await call(
            "hk_claim_entries", keys: claimEntryKeys(pool: pool, domain: domain),
            [
                .string(domain.rawValue), .string(""), .integer(0), .integer(0), .string(""), .integer(after.milliseconds),
                .string(""),
            ])
    }

    /// The keys of `hk_claim_entries`: the destination's side of a split claim.
    private func claimEntryKeys(pool: PoolName, domain: DomainName) -> [String] {
        [keys.ready(pool: pool), keys.stream(pool: pool, domain: domain), keys.scanned(pool: pool, domain: domain), keys.wake(pool: pool)]
    }

    /// What `hk_claim_limits` charged, for `hk_claim_settle`.
    private struct Settlement {
        let request: ClaimRequest
        let egress: EgressID
        let charged: Int64
        let lease: String
        let ipInterval: Int64
    }

    private func settle(_ settlement: Settlement, taken: Int64) async throws(QueueError) {
        let request = settlement.request
        let unit = DeliveryUnit(egress: settlement.egress, site: request.site)
        let candidate = request.candidates.first { $0.egress == settlement.egress }
        var declared = [
            keys.siteRate(site: request.site), keys.leases(consumer: request.consumer), keys.ipRate(unit: unit),
            keys.warmup(egress: settlement.egress, day: request.day), keys.connections(unit: unit), keys.connectionRate(unit: unit),
        ]
        if let holding = request.holding {
            declared.append(keys.connections(unit: DeliveryUnit(egress: holding.unit.egress, site: request.site)))
        }
        _ = try await call(
            "hk_claim_settle", keys: declared,
            [
                .string(request.site.rawValue), .string(settlement.egress.rawValue), .integer(settlement.charged), .integer(taken),
                .integer(request.siteRate?.intervalMicroseconds ?? 0), .integer(settlement.ipInterval),
                .integer(candidate?.connectionRate?.intervalMicroseconds ?? 0), .integer(Int64(candidate?.warmupCap ?? -1)),
                .string(settlement.lease), .string(request.holding?.unit.egress.rawValue ?? ""),
                .string(request.holding?.lease.rawValue ?? ""),
            ])
    }

    /// Gives a connection lease back.
    public func release(_ connection: HeldConnection) async throws(QueueError) {
        _ = try await call(
            "hk_release", keys: [keys.connections(unit: connection.unit), keys.leases(consumer: connection.lease.consumer)],
            [.string(connection.unit.rawValue), .string(connection.lease.rawValue)])
    }

    /// Keeps a long-running batch's claims and connection lease fresh (`XCLAIM … JUSTID`
    /// resets the idle time without counting a new delivery), so it is not taken over while
    /// still in progress.
    public func refresh(_ batch: ClaimedBatch, consumer: String, entryIDs: [String], leaseFor: Duration) async throws(QueueError) {
        let stream = keys.stream(pool: batch.pool, domain: batch.domain)
        let leaseKeys = [keys.connections(unit: batch.unit), keys.leases(consumer: consumer)]
        if keys.splitClaim {
            _ = try await call(
                "hk_refresh", keys: [stream], [.string(consumer), .string(""), .integer(0)] + entryIDs.map { .string($0) })
            _ = try await call("hk_refresh_lease", keys: leaseKeys, [.string(batch.lease.rawValue), .integer(leaseFor.milliseconds)])
            return
        }
        _ = try await call(
            "hk_refresh", keys: [stream] + leaseKeys,
            [.string(consumer), .string(batch.lease.rawValue), .integer(leaseFor.milliseconds)] + entryIDs.map { .string($0) })
    }

    /// Gives claimed items back untouched (no attempt counted), for another worker or later.
    @discardableResult
    public func giveBack(_ batch: ClaimedBatch, consumer: String, entryIDs: [String]) async throws(QueueError) -> Int {
        guard !entryIDs.isEmpty else { return 0 }
        let reply = try await call(
            "hk_return", keys: [keys.stream(pool: batch.pool, domain: batch.domain)],
            [.string(consumer)] + entryIDs.map { .string($0) })
        return Int(reply.int ?? 0)
    }

    /// Applies an adaptive-backoff action and records `event`. Returns false when an
    /// equivalent action was already in force (nothing written).
    @discardableResult
    public func adapt(
        action: String, unit: DeliveryUnit, factor: Double, duration: Duration, event: DeliveryEvent
    ) async throws(QueueError) -> Bool {
        let target: [String]
        switch action {
        case "slow": target = [keys.slowdown(unit: unit), keys.slowdownLock(unit: unit)]
        case "suspend_ip": target = [keys.suspendedIP(unit: unit)]
        case "suspend_site": target = [keys.suspendedSite(unit.site)]
        default: throw .rejected("unknown adaptive-backoff action \(action)")
        }
        // The event is written in the same step, unless the limit keys have a slot of their
        // own: then it follows in its own call (lost if this process dies in between).
        let encoded = EventCoding.encode(event)
        let reply = try await call(
            "hk_adapt", keys: (keys.splitClaim ? [] : [keys.events]) + target,
            [
                .string(action), .double(factor), .integer(duration.milliseconds),
                .integer(Int64(configuration.eventsMaxLength)), .bytes(encoded),
            ] + (keys.splitClaim ? [.integer(1)] : []))
        guard reply.int == 1 else { return false }
        if keys.splitClaim {
            do { _ = try await redis.send(EventCoding.add(encoded, to: configuration)) } catch { throw Self.queueError(error) }
        }
        return true
    }

    /// How much of a stored message ``loadMessages(_:)`` reads: all of it up to this size
    /// (the ingest's streaming piece, so most messages), else this much — the header
    /// section, for loop detection and DSNs — and the rest while it is sent.
    public static let bodyHeadSize = 256 * 1024

    /// Loads the envelope and body of each message (one pipelined round trip): a body up to
    /// ``bodyHeadSize`` whole, a larger one's first ``bodyHeadSize`` octets (the rest is
    /// read with ``readBody(queueID:offset:count:)`` as it is sent). Messages that no longer
    /// exist are absent from the result.
    public func loadMessages(_ ids: [QueueID]) async throws(QueueError) -> [QueueID: StoredMessage] {
        var commands: [RedisCommand] = []
        for id in ids {
            commands.append(
                RedisCommand("HMGET", [.string(keys.message(id)), "sender", "mid", "accepted", "acct", "hdr", "tm", "v", "dsn"]))
            commands.append(RedisCommand("GETRANGE", [.string(keys.body(id)), 0, .integer(Int64(Self.bodyHeadSize - 1))]))
            commands.append(RedisCommand("STRLEN", [.string(keys.body(id))]))
            // A VERP message's recipient order (absent otherwise: a nil reply costs nothing).
            commands.append(RedisCommand("HGET", [.string(keys.recipientIndex(id)), "r"]))
        }
        let replies: [RESPValue]
        do { replies = try await redis.pipeline(commands) } catch { throw .redis(error) }
        var out: [QueueID: StoredMessage] = [:]
        for (index, id) in ids.enumerated() {
            // GETRANGE of a missing key is an empty string: a message is there when it has a length.
            guard let envelope = replies[4 * index].array, envelope.count == 8,
                let body = replies[4 * index + 1].buffer, let size = replies[4 * index + 2].int, size > 0
            else { continue }
            guard let field = envelope[0].string, let sender = EnvelopeCoding.sender(field: field) else {
                logger.error("stored message has an unreadable sender; skipping", metadata: ["queue_id": "\(id)"])
                continue
            }
            var message = StoredMessage(
                queueID: id, sender: sender, account: envelope[3].string, messageID: envelope[1].string,
                acceptedAt: envelope[2].string.flatMap { Int64($0) } ?? 0, body: body)
            message.storedSize = Int(size)
            // The added header fields (DKIM signatures) are sent before the stored message.
            if let added = envelope[4].buffer, added.readableBytes > 0 { message.addedHeader = added }
            message.labels = envelope[5].buffer.flatMap { try? JSONDecoder().decode(MessageLabels.self, from: Data($0.readableBytesView)) }
            if let domain = envelope[6].string, !domain.isEmpty, let order = replies[4 * index + 3].string {
                message.returnPath = (domain, order.split(separator: "\n").map(String.init))
            }
            message.notifySender = envelope[7].string == "1"
            out[id] = message
        }
        return out
    }

    /// `count` octets of a stored message from `offset` (`GETRANGE`), a piece of a large
    /// message as it is sent. Fewer octets come back only if the message is gone.
    public func readBody(queueID: QueueID, offset: Int, count: Int) async throws(QueueError) -> ByteBuffer {
        let reply: RESPValue
        do {
            reply = try await redis.send(
                RedisCommand("GETRANGE", [.string(keys.body(queueID)), .integer(Int64(offset)), .integer(Int64(offset + count - 1))]))
        } catch {
            throw .redis(error)
        }
        guard let piece = reply.buffer else { throw .rejected("unexpected reply to GETRANGE") }
        return piece
    }

    /// Records outcomes and acknowledges the items in one atomic step. Returns how many
    /// items were still this worker's to settle (others were taken over and are ignored).
    @discardableResult
    public func complete(pool: PoolName, consumer: String, domain: DomainName, outcomes: [WorkOutcome]) async throws(QueueError) -> Int {
        let guardrail = configuration.bounceGuard
        // The pause event is only needed (and built) when some outcome has an account.
        let template = outcomes.contains { $0.account != nil } ? Self.pauseEventTemplate(guardrail) : ByteBuffer()
        let keys = self.keys
        var declared = [
            keys.stream(pool: pool, domain: domain), keys.ready(pool: pool), keys.deferred, keys.depth(pool: pool),
            keys.events, keys.accountsVersion,
        ]
        var args: [RESPArgument] = [
            .string(consumer), .string(domain.rawValue),
            .integer(Int64(configuration.eventsMaxLength)),
            .integer(Int64((guardrail.threshold * 1000).rounded())), .integer(Int64(guardrail.minimumVolume)),
            .integer(Int64(guardrail.windowHours)), .bytes(template), .string(keys.bouncesStem),
            .integer(Int64(configuration.recipientIndexTTLSeconds)), .integer(Int64(configuration.complaintGuard.windowHours)),
            .integer(Int64(outcomes.count)),
        ]
        for outcome in outcomes {
            let item = outcome.item
            declared += [keys.message(item.queueID), keys.body(item.queueID), keys.recipientIndex(item.queueID)]
            if let account = outcome.account { declared.append(keys.accountPaused(account)) }
            args += [.string(item.entryID), .integer(Int64(outcome.finalCount))]
            if let retry = outcome.retry, !retry.recipients.isEmpty {
                let member = DeferredMember(
                    entryID: item.entryID, pool: pool, domain: domain, queueID: item.queueID,
                    attempts: item.previousAttempts + 1, acceptedAt: item.acceptedAt,
                    recipients: retry.recipients.map(\.description), pinnedEgress: outcome.pinnedEgress
                ).rawValue
                args += [.string(member), .integer(retry.dueAt + (clockOffset.withLock { $0?.offset } ?? 0))]
            } else {
                args += [.string(""), .integer(0)]
            }
            let delivered = outcome.events.count { $0.event == .delivered }
            let bounced = outcome.events.count { $0.event == .bounced }
            args += [.string(outcome.account ?? ""), .integer(Int64(delivered)), .integer(Int64(bounced))]
            args.append(.integer(Int64(outcome.events.count)))
            args += outcome.events.map { .bytes(EventCoding.encode($0)) }
        }
        let reply = try await call("hk_complete", keys: declared, args)
        return Int(reply.int ?? 0)
    }

    /// The `paused` event hk_complete writes when an account's bounce rate goes over the
    /// threshold (`%ACCOUNT%` and `%RATE%` filled in there).
    static func pauseEventTemplate(_ guardrail: BounceGuard) -> ByteBuffer {
        var event = DeliveryEvent(event: .paused, time: "", queueID: "", messageID: nil, sender: "")
        event.account = "%ACCOUNT%"
        event.reply =
            "hard-bounce rate %RATE% is over the threshold of \(Self.percent(guardrail.threshold)); "
            + "sending is paused until an operator runs `hikyaku account resume %ACCOUNT%`"
        event.time = WallClock.iso8601(milliseconds: WallClock.nowMilliseconds())
        return EventCoding.encode(event)
    }

    static func percent(_ fraction: Double) -> String {
        let tenths = Int((fraction * 1000).rounded())
        return "\(tenths / 10).\(tenths % 10)%"
    }

    /// Moves deferred work that is due back into its destination's stream.
    @discardableResult
    public func promoteDue(limit: Int = 1000) async throws(QueueError) -> Int {
        Int(
            try await call(
                "hk_promote", keys: [keys.deferred],
                [.integer(Int64(limit)), .string(keys.streamStem), .string(keys.readyStem), .string(keys.wakeStem)]
            ).int ?? 0)
    }

    /// Recipients accepted into `pool` and not yet final.
    public func depth(pool: PoolName) async throws(QueueError) -> Int {
        do {
            return Int(try await redis.send(RedisCommand("GET", [.string(keys.depth(pool: pool))])).int ?? 0)
        } catch {
            throw .redis(error)
        }
    }
}
