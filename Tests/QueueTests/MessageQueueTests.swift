import HikyakuTestSupport
import Logging
import NIOCore
import NIOPosix
import Queue
import RedisClient
import RelayCore
import SMTPProtocol
import Testing

/// The queue's Redis data model, against a real redis-server.
@Suite(.serialized)
struct MessageQueueTests {
    final class Harness: @unchecked Sendable {
        let server: RedisServerProcess
        let redis: RedisClient
        let queue: MessageQueue

        /// `limitsApart`: the limit keys under a prefix of their own (`hkl:`), so every claim
        /// runs as three steps (limits, entries, refund) — the same promises must hold.
        init(limitsApart: Bool = false) async throws {
            server = try await RedisServerProcess.start()
            let endpoint = try RedisEndpoint(url: server.url)
            redis = RedisClient(
                configuration: .init(endpoint: endpoint), eventLoopGroup: MultiThreadedEventLoopGroup.singleton,
                logger: Logger(label: "test"), onConnect: { try await MessageQueue.prepare(connection: $0) })
            var configuration = QueueConfiguration()
            if limitsApart { configuration.limitsKeyPrefix = "hkl:" }
            queue = MessageQueue(redis: redis, configuration: configuration, logger: Logger(label: "test"))
        }

        func shutdown() async {
            await redis.shutdown()
            server.stop()
        }

        func message(_ recipients: [Mailbox], id: QueueID = .generate(), pool: PoolName = .default) -> NewMessage {
            NewMessage(
                queueID: id, sender: "app@example.com", recipients: recipients, messageID: "<m@x>", size: 5,
                clientIP: "127.0.0.1", authUser: nil, pool: pool)
        }

        func enqueue(_ recipients: [Mailbox], id: QueueID = .generate(), pool: PoolName = .default) async throws {
            try await queue.enqueue(message(recipients, id: id, pool: pool), body: .inline(ByteBuffer(string: "body")), deadline: farFuture)
        }

        func keyCount(_ pattern: String) async throws -> Int {
            try await redis.send(RedisCommand("KEYS", [.string(pattern)])).array?.count ?? -1
        }

        /// next + claim without limits, as a worker with one unlimited IP.
        func claimAny(
            pool: PoolName = .default, consumer: String = "w1", batch: Int = 10,
            claimTimeout: Duration = .seconds(60)
        ) async throws -> ClaimedBatch? {
            guard case .domain(let domain, _) = try await queue.next(pool: pool, hold: .seconds(10)) else { return nil }
            let result = try await queue.claim(
                pool: pool, domain: domain, site: "site", consumer: consumer, batchSize: batch,
                claimTimeout: claimTimeout, siteRate: nil,
                candidates: [EgressCandidate(egress: "ip1", maxConnections: 0, rate: nil, connectionRate: nil, warmupCap: nil)])
            guard case .batch(let claimed) = result else { return nil }
            return claimed
        }

        func claim(
            domain: DomainName, site: SiteName = "site", consumer: String = "w1", batch: Int = 10, siteRate: Rate? = nil,
            holding: HeldConnection? = nil, _ candidates: [EgressCandidate]
        ) async throws -> ClaimResult {
            try await queue.claim(
                pool: "default", domain: domain, site: site, consumer: consumer, batchSize: batch,
                claimTimeout: .seconds(60), siteRate: siteRate, holding: holding, candidates: candidates)
        }
    }

    static let farFuture = WallClock.nowMilliseconds() + 600_000

    static func ip(_ name: EgressID, connections: Int = 0, rate: Rate? = nil, warmup: Int? = nil) -> EgressCandidate {
        EgressCandidate(egress: name, maxConnections: connections, rate: rate, connectionRate: nil, warmupCap: warmup)
    }

    @Test(arguments: [false, true]) func enqueueGroupsRecipientsByDomainAndClaimReturnsThem(limitsApart: Bool) async throws {
        let h = try await Harness(limitsApart: limitsApart)
        let id = QueueID.generate()
        try await h.enqueue(["a@Example.NET", "b@example.net", "c@other.test"], id: id)
        var seen: [String: [String]] = [:]
        for _ in 0..<2 {
            let batch = try #require(try await h.claimAny())
            #expect(batch.items.count == 1)
            #expect(batch.items[0].queueID == id)
            #expect(batch.egress == "ip1")
            seen[batch.domain.rawValue] = batch.items[0].recipients.map(\.description)
        }
        #expect(seen["example.net"]?.sorted() == ["a@Example.NET", "b@example.net"])
        #expect(seen["other.test"] == ["c@other.test"])
        #expect(try await h.queue.depth(pool: "default") == 3)
        let messages = try await h.queue.loadMessages([id])
        #expect(messages[id].map { String(buffer: $0.body) } == "body")
        await h.shutdown()
    }

    @Test func poolsAreSeparateQueues() async throws {
        let h = try await Harness()
        try await h.enqueue(["a@one.test"], pool: "dedicated")
        #expect(try await h.claimAny(pool: "default") == nil)
        let batch = try #require(try await h.claimAny(pool: "dedicated"))
        #expect(batch.pool == "dedicated" && batch.domain == "one.test")
        await h.shutdown()
    }

    @Test func completingEveryRecipientDeletesTheMessageAndRecordsEvents() async throws {
        let h = try await Harness()
        let id = QueueID.generate()
        try await h.enqueue(["a@one.test"], id: id)
        let batch = try #require(try await h.claimAny())
        var event = DeliveryEvent(event: .delivered, time: "t", queueID: id.rawValue, messageID: nil, sender: "s")
        event.recipient = "a@one.test"
        let acked = try await h.queue.complete(
            pool: "default", consumer: "w1", domain: batch.domain,
            outcomes: [WorkOutcome(item: batch.items[0], finalCount: 1, retry: nil, events: [event])])
        #expect(acked == 1)
        #expect(try await h.keyCount("hk:msg:*") == 0)
        #expect(try await h.keyCount("hk:body:*") == 0)
        #expect(try await h.keyCount("hk:q:*") == 0)
        #expect(try await h.queue.depth(pool: "default") == 0)
        let events = try await EventLog(redis: h.redis).read(after: "0", count: 10)
        #expect(events.map(\.event.event) == [.accepted, .delivered])
        #expect(try await h.claimAny() == nil)
        await h.shutdown()
    }

    @Test func anEnqueueArrivingAfterItsDeadlineStoresNothing() async throws {
        let h = try await Harness()
        await #expect(throws: QueueError.self) {
            try await h.queue.enqueue(
                h.message(["a@one.test"]), body: .inline(ByteBuffer(string: "x")), deadline: WallClock.nowMilliseconds() - 1000)
        }
        #expect(try await h.keyCount("hk:*") == 0)
        await h.shutdown()
    }

    @Test func streamedBodiesAreRenamedAtAcceptance() async throws {
        let h = try await Harness()
        let id = QueueID.generate()
        try await h.queue.appendBody(queueID: id, chunk: ByteBuffer(string: "part1-"))
        try await h.queue.appendBody(queueID: id, chunk: ByteBuffer(string: "part2"))
        try await h.queue.enqueue(h.message(["a@one.test"], id: id), body: .streamed, deadline: Self.farFuture)
        #expect(try await h.keyCount("hk:tmp:*") == 0)
        let messages = try await h.queue.loadMessages([id])
        #expect(messages[id].map { String(buffer: $0.body) } == "part1-part2")
        await h.shutdown()
    }

    @Test func deferredWorkComesBackWhenDueWithItsAttemptCount() async throws {
        let h = try await Harness()
        try await h.enqueue(["a@one.test", "b@one.test"])
        let batch = try #require(try await h.claimAny())
        try await h.queue.complete(
            pool: "default", consumer: "w1", domain: batch.domain,
            outcomes: [
                WorkOutcome(item: batch.items[0], finalCount: 1, retry: (["b@one.test"], WallClock.nowMilliseconds() - 1000), events: [])
            ])
        #expect(try await h.claimAny() == nil, "deferred work must not be claimable before it is promoted")
        #expect(try await h.queue.promoteDue() == 1)
        let retry = try #require(try await h.claimAny())
        #expect(retry.items.map(\.recipients) == [["b@one.test"]])
        #expect(retry.items[0].previousAttempts == 1)
        #expect(retry.items[0].acceptedAt == batch.items[0].acceptedAt)
        #expect(try await h.keyCount("hk:body:*") == 1, "the message stays until its last recipient is final")
        try await h.queue.complete(
            pool: "default", consumer: "w1", domain: retry.domain,
            outcomes: [WorkOutcome(item: retry.items[0], finalCount: 1, retry: nil, events: [])])
        #expect(try await h.keyCount("hk:body:*") == 0)
        await h.shutdown()
    }

    @Test(arguments: [false, true]) func aDeadWorkersBatchIsTakenOverAndItsLateCompletionIgnored(limitsApart: Bool) async throws {
        let h = try await Harness(limitsApart: limitsApart)
        try await h.enqueue(["a@one.test"])
        let first = try #require(try await h.claimAny(consumer: "dead", claimTimeout: .milliseconds(200)))
        try await Task.sleep(for: .milliseconds(300))
        var takenOver: ClaimedBatch?
        for _ in 0..<50 {
            if let batch = try await h.claimAny(consumer: "alive", claimTimeout: .milliseconds(200)) {
                takenOver = batch
                break
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        #expect(takenOver?.items.map(\.entryID) == first.items.map(\.entryID))
        #expect(takenOver?.takenOver == 1)
        let stale = try await h.queue.complete(
            pool: "default", consumer: "dead", domain: first.domain,
            outcomes: [WorkOutcome(item: first.items[0], finalCount: 1, retry: nil, events: [])])
        #expect(stale == 0, "the presumed-dead worker's late completion must not be applied")
        #expect(try await h.keyCount("hk:body:*") == 1)
        await h.shutdown()
    }

    @Test(arguments: [false, true]) func givenBackItemsAreClaimableAgainWithoutCountingAnAttempt(limitsApart: Bool) async throws {
        let h = try await Harness(limitsApart: limitsApart)
        try await h.enqueue(["a@one.test"])
        let batch = try #require(try await h.claimAny())
        #expect(try await h.queue.giveBack(batch, consumer: "w1", entryIDs: batch.items.map(\.entryID)) == 1)
        // The lease kept the domain back; an operator or a new enqueue would bring it forward.
        let again = try await h.claim(domain: "one.test", [Self.ip("ip1")])
        guard case .batch(let second) = again else {
            Issue.record("expected the item again, got \(again)")
            return
        }
        #expect(second.items.map(\.recipients) == [["a@one.test"]])
        #expect(second.items[0].previousAttempts == 0)
        await h.shutdown()
    }

    @Test(arguments: [false, true]) func theRatePerIPHoldsAndTheWaitIsReported(limitsApart: Bool) async throws {
        let h = try await Harness(limitsApart: limitsApart)
        for _ in 0..<5 { try await h.enqueue(["a@rated.test"]) }
        let rate = Rate(count: 2, period: .seconds(1), burst: 1)  // one message every 500 ms
        guard case .batch(let first) = try await h.claim(domain: "rated.test", [Self.ip("ip1", rate: rate)]) else {
            Issue.record("expected a batch")
            return
        }
        #expect(first.items.count == 1, "burst 1: one message now")
        guard case .wait(let ms, let reason) = try await h.claim(domain: "rated.test", [Self.ip("ip1", rate: rate)]) else {
            Issue.record("expected a wait")
            return
        }
        #expect(reason == .rateIP)
        #expect(ms > 0 && ms <= 500)
        // Another IP of the pool is not held back by ip1's rate.
        guard case .batch(let other) = try await h.claim(domain: "rated.test", [Self.ip("ip1", rate: rate), Self.ip("ip2", rate: rate)])
        else {
            Issue.record("expected ip2 to take a batch")
            return
        }
        #expect(other.egress == "ip2")
        await h.shutdown()
    }

    /// A batch that takes fewer items than its limits allow is charged only what it took:
    /// with the limits apart the claim charges the whole allowance first, and the refund
    /// must bring the rates, the warm-up count and the connection leases back exactly.
    @Test(arguments: [false, true]) func aClaimIsChargedOnlyWhatItTook(limitsApart: Bool) async throws {
        let h = try await Harness(limitsApart: limitsApart)
        let keys = h.queue.configuration.keys
        for _ in 0..<3 { try await h.enqueue(["a@few.test"]) }
        let rate = Rate(count: 1, period: .seconds(60), burst: 10)
        let siteRate = Rate(count: 1, period: .seconds(60), burst: 10)
        let candidate = Self.ip("ip1", rate: rate, warmup: 100)
        guard case .batch(let first) = try await h.claim(domain: "few.test", batch: 10, siteRate: siteRate, [candidate]) else {
            Issue.record("expected a batch")
            return
        }
        #expect(first.items.count == 3)
        let day = WallClock.nowMilliseconds() / 86_400_000
        let warm = try await h.redis.send(RedisCommand("GET", [.string(keys.warmup(egress: "ip1", day: day))]))
        #expect(warm.string == "3", "warm-up count after a batch of 3: \(warm)")
        // Seven more fit the bursts of 10: a claim that kept the whole charge would have none.
        for _ in 0..<8 { try await h.enqueue(["a@few.test"]) }
        guard case .batch(let second) = try await h.claim(domain: "few.test", consumer: "w2", batch: 10, siteRate: siteRate, [candidate])
        else {
            Issue.record("expected the rest of the bursts")
            return
        }
        #expect(second.items.count == 7)
        guard case .wait(_, let reason) = try await h.claim(domain: "few.test", consumer: "w3", batch: 10, siteRate: siteRate, [candidate])
        else {
            Issue.record("expected a wait: both bursts are used up")
            return
        }
        #expect(reason == .rateSite)
        // A claim that finds nothing keeps no lease.
        try await h.queue.release(first.connection)
        try await h.queue.release(second.connection)
        _ = try await h.claim(domain: "empty.test", consumer: "w4", [Self.ip("ip2")])
        #expect(try await h.keyCount(keys.connectionsStem + "*") == 0)
        await h.shutdown()
    }

    /// `next` holds a destination for the claim that follows; when that claim fails (a
    /// Redis error), `retryClaim` makes it due again soon instead of after the hold.
    @Test func aFailedClaimsDestinationIsDueAgainSoon() async throws {
        let h = try await Harness(limitsApart: true)
        try await h.enqueue(["a@held.test"])
        guard case .domain("held.test", _) = try await h.queue.next(pool: .default, hold: .seconds(10)) else {
            Issue.record("expected the destination")
            return
        }
        let ready = h.queue.configuration.keys.ready(pool: .default)
        let score = { try await h.redis.send(RedisCommand("ZSCORE", [.string(ready), "held.test"])).string.flatMap(Double.init) ?? 0 }
        let now = Double(WallClock.nowMilliseconds())
        #expect(try await score() > now + 9_000, "held for 10 s")
        try await h.queue.retryClaim(pool: .default, domain: "held.test", after: .seconds(1))
        let rescored = try await score()
        #expect(rescored > now && rescored < now + 3_000, "due again after about 1 s, not 10: \(rescored - now) ms")
        await h.shutdown()
    }

    @Test(arguments: [false, true]) func aSiteRateIsSharedByAllIPs(limitsApart: Bool) async throws {
        let h = try await Harness(limitsApart: limitsApart)
        for _ in 0..<4 { try await h.enqueue(["a@one.test"]) }
        let siteRate = Rate(count: 1, period: .seconds(10), burst: 2)
        guard case .batch(let first) = try await h.claim(domain: "one.test", siteRate: siteRate, [Self.ip("ip1")]) else {
            Issue.record("expected a batch")
            return
        }
        #expect(first.items.count == 2, "burst 2")
        guard case .wait(_, let reason) = try await h.claim(domain: "one.test", siteRate: siteRate, [Self.ip("ip2")]) else {
            Issue.record("expected a wait")
            return
        }
        #expect(reason == .rateSite)
        await h.shutdown()
    }

    @Test(arguments: [false, true]) func connectionLeasesLimitConcurrentBatchesPerIPAndSite(limitsApart: Bool) async throws {
        let h = try await Harness(limitsApart: limitsApart)
        try await h.enqueue(["a@one.test"])
        try await h.enqueue(["a@two.test"])
        guard case .batch(let first) = try await h.claim(domain: "one.test", site: "shared", [Self.ip("ip1", connections: 1)]) else {
            Issue.record("expected a batch")
            return
        }
        guard case .wait(_, let reason) = try await h.claim(domain: "two.test", site: "shared", [Self.ip("ip1", connections: 1)]) else {
            Issue.record("expected a wait for the connection")
            return
        }
        #expect(reason == .connections)
        try await h.queue.release(first.connection)
        guard case .batch = try await h.claim(domain: "two.test", site: "shared", [Self.ip("ip1", connections: 1)]) else {
            Issue.record("the released lease should let the second batch go")
            return
        }
        await h.shutdown()
    }

    @Test(arguments: [false, true]) func aHeldConnectionIsReusedWithoutNewLeaseAndGivenBackWhenAnotherIPIsChosen(
        limitsApart: Bool
    ) async throws {
        let h = try await Harness(limitsApart: limitsApart)
        for _ in 0..<4 { try await h.enqueue(["a@one.test"]) }
        let oneConnection = EgressCandidate(
            egress: "ip1", maxConnections: 1, rate: nil,
            connectionRate: Rate(count: 1, period: .seconds(3600)), warmupCap: nil)
        guard case .batch(let first) = try await h.claim(domain: "one.test", batch: 1, [oneConnection]) else {
            Issue.record("expected a batch")
            return
        }
        // Without the held connection, ip1 is at its connection count and connection rate.
        guard case .wait(_, let reason) = try await h.claim(domain: "one.test", consumer: "w2", batch: 1, [oneConnection]) else {
            Issue.record("expected a wait")
            return
        }
        #expect(reason == .connections)
        // Holding it, the same connection carries the next batch under the same lease.
        guard case .batch(let second) = try await h.claim(domain: "one.test", batch: 1, holding: first.connection, [oneConnection]) else {
            Issue.record("the held connection should carry the next batch")
            return
        }
        #expect(second.lease == first.lease)
        #expect(try await h.keyCount(h.queue.configuration.keys.connectionsStem + "ip1|site") == 1)
        // ip1 now refuses (its hourly rate is used up by another batch); ip2 is chosen, so the
        // held ip1 lease is given back.
        let hourly = Rate(count: 1, period: .seconds(3600))
        let ip1Limited = EgressCandidate(egress: "ip1", maxConnections: 1, rate: hourly, connectionRate: nil, warmupCap: nil)
        guard case .batch = try await h.claim(domain: "one.test", consumer: "w3", batch: 1, holding: second.connection, [ip1Limited]) else {
            Issue.record("expected a batch using up ip1's rate")
            return
        }
        guard
            case .batch(let third) = try await h.claim(
                domain: "one.test", batch: 1, holding: second.connection,
                [ip1Limited, Self.ip("ip2")])
        else {
            Issue.record("expected a batch from ip2")
            return
        }
        #expect(third.egress == "ip2")
        #expect(third.lease != first.lease)
        #expect(try await h.keyCount(h.queue.configuration.keys.connectionsStem + "ip1|site") == 0)
        await h.shutdown()
    }

    @Test(arguments: [false, true]) func anIPOverItsWarmupCapHandsWorkToTheNextIP(limitsApart: Bool) async throws {
        let h = try await Harness(limitsApart: limitsApart)
        for _ in 0..<3 { try await h.enqueue(["a@one.test"]) }
        var used: [EgressID] = []
        for _ in 0..<3 {
            guard case .batch(let batch) = try await h.claim(domain: "one.test", batch: 1, [Self.ip("new", warmup: 1), Self.ip("warm")])
            else {
                Issue.record("expected a batch")
                return
            }
            used.append(batch.egress)
        }
        #expect(used == ["new", "warm", "warm"])
        guard case .wait(_, let reason) = try await h.claim(domain: "one.test", [Self.ip("new", warmup: 1)]) else {
            Issue.record("expected a wait")
            return
        }
        #expect(reason == .warmup || reason == .empty)
        await h.shutdown()
    }

    @Test(arguments: [false, true]) func backoffSuspendsAndSlowsAndExpiresOnItsOwn(limitsApart: Bool) async throws {
        let h = try await Harness(limitsApart: limitsApart)
        for _ in 0..<3 { try await h.enqueue(["a@one.test"]) }
        let event = DeliveryEvent(event: .backoff, time: "t", queueID: "", messageID: nil, sender: "")
        #expect(
            try await h.queue.adapt(
                action: "suspend_ip", unit: DeliveryUnit(egress: "ip1", site: "site"), factor: 1, duration: .milliseconds(300), event: event
            ))
        #expect(
            try await !h.queue.adapt(
                action: "suspend_ip", unit: DeliveryUnit(egress: "ip1", site: "site"), factor: 1, duration: .milliseconds(300), event: event
            ),
            "a second identical suspension is not applied again")
        guard case .batch(let viaOther) = try await h.claim(domain: "one.test", batch: 1, [Self.ip("ip1"), Self.ip("ip2")]) else {
            Issue.record("expected ip2")
            return
        }
        #expect(viaOther.egress == "ip2")
        #expect(
            try await h.queue.adapt(
                action: "suspend_site", unit: DeliveryUnit(egress: "ip2", site: "site"), factor: 1, duration: .seconds(1),
                event: event))
        guard case .wait(let ms, let reason) = try await h.claim(domain: "one.test", batch: 1, [Self.ip("ip1"), Self.ip("ip2")]) else {
            Issue.record("expected the site to be suspended")
            return
        }
        #expect(reason == .suspended && ms <= 1000)
        try await Task.sleep(for: .milliseconds(1100))
        guard case .batch = try await h.claim(domain: "one.test", batch: 1, [Self.ip("ip1")]) else {
            Issue.record("suspensions should have expired")
            return
        }
        let backoffEvents = try await EventLog(redis: h.redis).read(after: "0", count: 100).filter { $0.event.event == .backoff }
        #expect(backoffEvents.count == 2)
        await h.shutdown()
    }

    @Test(arguments: [false, true]) func slowingAnIPSiteStretchesItsRate(limitsApart: Bool) async throws {
        let h = try await Harness(limitsApart: limitsApart)
        for _ in 0..<3 { try await h.enqueue(["a@one.test"]) }
        let rate = Rate(count: 10, period: .seconds(1), burst: 1)  // every 100 ms
        let event = DeliveryEvent(event: .backoff, time: "t", queueID: "", messageID: nil, sender: "")
        #expect(
            try await h.queue.adapt(
                action: "slow", unit: DeliveryUnit(egress: "ip1", site: "site"), factor: 0.1, duration: .seconds(60), event: event))
        guard case .batch = try await h.claim(domain: "one.test", batch: 1, [Self.ip("ip1", rate: rate)]) else {
            Issue.record("expected a batch")
            return
        }
        guard case .wait(let ms, let reason) = try await h.claim(domain: "one.test", batch: 1, [Self.ip("ip1", rate: rate)]) else {
            Issue.record("expected a wait")
            return
        }
        #expect(reason == .rateIP)
        #expect(ms > 500, "factor 0.1 turns 100 ms into 1 s")
        await h.shutdown()
    }

    @Test(arguments: [false, true]) func refreshingKeepsEveryItemOfALongBatchClaimed(limitsApart: Bool) async throws {
        let h = try await Harness(limitsApart: limitsApart)
        for _ in 0..<3 { try await h.enqueue(["a@one.test"]) }
        let batch = try #require(try await h.claimAny(consumer: "w1", claimTimeout: .milliseconds(500)))
        #expect(batch.items.count == 3)
        // Margins are wide on purpose: the suite runs tests in parallel on 2 cores, and a
        // stall between the refresh and the next claim must not look like an expired claim.
        func takeOver(olderThan idle: Duration) async throws -> Int {
            let result = try await h.queue.claim(
                pool: "default", domain: "one.test", site: "site", consumer: "w2", batchSize: 10,
                claimTimeout: idle, siteRate: nil, candidates: [Self.ip("ip2")])
            if case .batch(let stolen) = result { return stolen.items.count }
            return 0
        }
        try await Task.sleep(for: .milliseconds(700))
        try await h.queue.refresh(batch, consumer: "w1", entryIDs: batch.items.map(\.entryID), leaseFor: .seconds(60))
        // 700 ms since the claim, moments since the refresh: nothing idle for 500 ms may be taken.
        #expect(try await takeOver(olderThan: .milliseconds(500)) == 0, "refreshed items were taken over")
        // The same call does take the items over once they have sat unrefreshed that long.
        try await Task.sleep(for: .milliseconds(700))
        #expect(try await takeOver(olderThan: .milliseconds(500)) == 3)
        await h.shutdown()
    }

    @Test(arguments: [false, true]) func aDomainLimitedByOneIPsRateStaysDueForTheOtherIPs(limitsApart: Bool) async throws {
        let h = try await Harness(limitsApart: limitsApart)
        for _ in 0..<3 { try await h.enqueue(["a@busy.test"]) }
        let slow = Rate(count: 1, period: .seconds(60), burst: 1)
        guard case .batch(let first) = try await h.claim(domain: "busy.test", consumer: "w1", [Self.ip("ip1", rate: slow)]) else {
            Issue.record("expected a batch")
            return
        }
        #expect(first.items.count == 1)
        // Another worker with its own IP finds the domain due at once.
        guard case .domain("busy.test", _) = try await h.queue.next(pool: "default", hold: .seconds(10)) else {
            Issue.record("the domain should still be due for other IPs")
            return
        }
        guard case .batch(let second) = try await h.claim(domain: "busy.test", consumer: "w2", [Self.ip("ip2", rate: slow)]) else {
            Issue.record("expected ip2 to send in parallel")
            return
        }
        #expect(second.egress == "ip2" && second.items.count == 1)
        await h.shutdown()
    }

    @Test func completingAfterTheStreamIsGoneIsNotAnError() async throws {
        let h = try await Harness()
        try await h.enqueue(["a@one.test"])
        let batch = try #require(try await h.claimAny())
        _ = try await h.redis.send(RedisCommand("DEL", ["hk:q:default:one.test"]))
        let acked = try await h.queue.complete(
            pool: "default", consumer: "w1", domain: "one.test",
            outcomes: [WorkOutcome(item: batch.items[0], finalCount: 1, retry: nil, events: [])])
        #expect(acked == 0)
        await h.shutdown()
    }
}
