import HikyakuTestSupport
import Logging
import NIOCore
import NIOPosix
import Queue
import RedisClient
import RelayCore
import SMTPProtocol
import Testing

/// Retries pinned to an egress IP (greylisting): `hk_claim` gives them to a claim from that
/// IP, parks them for it when another IP claims, and lets any IP have them when the pinned
/// one is not live, is suspended, or the claim timeout has passed.
@Suite(.serialized)
struct PinnedRetryTests {
    typealias Harness = MessageQueueTests.Harness

    static func candidate(_ ip: String) -> EgressCandidate {
        EgressCandidate(egress: EgressID(rawValue: ip), maxConnections: 0, rate: nil, connectionRate: nil, warmupCap: nil)
    }

    func claim(_ h: Harness, _ ips: [String], consumer: String = "w1", timeout: Duration = .seconds(60)) async throws -> ClaimResult {
        try await h.queue.claim(
            pool: .default, domain: "one.test", site: "site", consumer: consumer, batchSize: 10,
            claimTimeout: timeout, siteRate: nil, candidates: ips.map(Self.candidate))
    }

    /// One message deferred after an attempt from `ip`, pinned to it, promoted (due a second
    /// ago: the queue shifts retry times by its estimate of Redis's clock offset, which a
    /// loaded machine's slow round trip can put a few milliseconds ahead).
    func deferredPinned(_ h: Harness, to ip: String) async throws {
        try await h.enqueue(["a@one.test"])
        guard case .batch(let batch) = try await claim(h, [ip]) else { throw Failure("no first batch") }
        try await h.queue.release(HeldConnection(unit: batch.unit, lease: batch.lease))
        var outcome = WorkOutcome(
            item: batch.items[0], finalCount: 0, retry: (["a@one.test"], WallClock.nowMilliseconds() - 1000), events: [])
        outcome.pinnedEgress = EgressID(rawValue: ip)
        try await h.queue.complete(pool: .default, consumer: "w1", domain: "one.test", outcomes: [outcome])
        #expect(try await h.queue.promoteDue() == 1)
    }

    struct Failure: Error, CustomStringConvertible {
        var description: String
        init(_ description: String) { self.description = description }
    }

    func items(_ result: ClaimResult) -> (ip: String, count: Int)? {
        guard case .batch(let batch) = result else { return nil }
        return (batch.egress.rawValue, batch.items.count)
    }

    @Test func aPinnedRetryIsClaimedFromItsIPWhichIsTriedFirst() async throws {
        let h = try await Harness()
        try await h.queue.markEgressLive(["10.0.0.1", "10.0.0.2"], for: .seconds(60))
        try await deferredPinned(h, to: "10.0.0.2")
        // Another IP's claim parks it (the pinned IP is live) and gets nothing.
        #expect(items(try await claim(h, ["10.0.0.1"])) == nil)
        // A claim offering both IPs, the pinned one last, is made from the pinned one.
        let batch = try #require(items(try await claim(h, ["10.0.0.1", "10.0.0.2"])))
        #expect(batch.ip == "10.0.0.2" && batch.count == 1)
        await h.shutdown()
    }

    @Test func aRetryPinnedToAnIPThatIsNotLiveGoesToAnyIP() async throws {
        let h = try await Harness()
        try await h.queue.markEgressLive(["10.0.0.1"], for: .seconds(60))
        try await deferredPinned(h, to: "10.0.0.2")
        let batch = try #require(items(try await claim(h, ["10.0.0.1"])))
        #expect(batch.ip == "10.0.0.1" && batch.count == 1)
        await h.shutdown()
    }

    @Test func entriesParkedForAnIPThatStopsAreTakenByAnother() async throws {
        let h = try await Harness()
        try await h.queue.markEgressLive(["10.0.0.1", "10.0.0.2"], for: .seconds(60))
        try await deferredPinned(h, to: "10.0.0.2")
        #expect(items(try await claim(h, ["10.0.0.1"])) == nil)
        // Its worker stops (gracefully): the parked entry is anyone's.
        try await h.queue.markEgressLive(["10.0.0.2"], for: nil)
        let batch = try #require(items(try await claim(h, ["10.0.0.1"])))
        #expect(batch.ip == "10.0.0.1" && batch.count == 1)
        await h.shutdown()
    }

    @Test func entriesParkedForASuspendedIPAreTakenByAnotherOfItsWorker() async throws {
        let h = try await Harness()
        try await h.queue.markEgressLive(["10.0.0.1", "10.0.0.2"], for: .seconds(60))
        try await deferredPinned(h, to: "10.0.0.2")
        #expect(items(try await claim(h, ["10.0.0.1"])) == nil)
        _ = try await h.redis.send(RedisCommand("SET", ["hk:susp:ipall:10.0.0.2", "test", "PX", "60000"]))
        let batch = try #require(items(try await claim(h, ["10.0.0.2", "10.0.0.1"])))
        #expect(batch.ip == "10.0.0.1" && batch.count == 1)
        await h.shutdown()
    }

    @Test func aParkedEntryIsTakenOverAfterTheClaimTimeout() async throws {
        let h = try await Harness()
        try await h.queue.markEgressLive(["10.0.0.1", "10.0.0.2"], for: .seconds(60))
        try await deferredPinned(h, to: "10.0.0.2")
        #expect(items(try await claim(h, ["10.0.0.1"], timeout: .seconds(1))) == nil)
        try await Task.sleep(for: .milliseconds(1200))
        // The takeover pass runs a quarter of the (60 s) timeout of the first claim later.
        _ = try await h.redis.send(RedisCommand("DEL", ["hk:scanned:default:one.test"]))
        let batch = try #require(items(try await claim(h, ["10.0.0.1"], timeout: .seconds(1))))
        #expect(batch.ip == "10.0.0.1" && batch.count == 1)
        await h.shutdown()
    }
}
