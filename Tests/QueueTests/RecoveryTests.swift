import Queue
import RedisClient
import RelayCore
import Testing

/// Worker identities and crash recovery in the queue, against a real redis-server.
@Suite(.serialized)
struct RecoveryTests {
    typealias Harness = MessageQueueTests.Harness

    func claim(_ h: Harness, consumer: String, batch: Int, claimTimeout: Duration, connections: Int = 0) async throws -> ClaimResult {
        try await h.queue.claim(
            pool: "default", domain: "one.test", site: "site", consumer: consumer, batchSize: batch,
            claimTimeout: claimTimeout, siteRate: nil, candidates: [MessageQueueTests.ip("ip1", connections: connections)])
    }

    @Test func aDeadWorkersBacklogIsTakenOverBatchAfterBatchWithoutWaiting() async throws {
        let h = try await Harness()
        for i in 0..<30 { try await h.enqueue(["r\(i)@one.test"]) }
        guard case .batch(let dead) = try await claim(h, consumer: "dead", batch: 30, claimTimeout: .seconds(1)) else {
            Issue.record("expected a batch")
            return
        }
        #expect(dead.items.count == 30)
        try await Task.sleep(for: .milliseconds(1100))
        // Three claims in a row each take a full batch of the dead worker's entries: the
        // pass over the pending list goes on where the last claim left it.
        var taken: [Int] = []
        for _ in 0..<3 {
            guard case .batch(let batch) = try await claim(h, consumer: "alive", batch: 10, claimTimeout: .seconds(1)) else {
                taken.append(0)
                continue
            }
            taken.append(batch.takenOver)
        }
        #expect(taken == [10, 10, 10])
        await h.shutdown()
    }

    @Test func aRestartedWorkerTakesBackItsClaimsAndLeasesAtOnce() async throws {
        let h = try await Harness()
        for i in 0..<5 { try await h.enqueue(["r\(i)@one.test"]) }
        guard case .batch(let crashed) = try await claim(h, consumer: "node/0", batch: 10, claimTimeout: .seconds(300), connections: 1)
        else {
            Issue.record("expected a batch")
            return
        }
        #expect(crashed.items.count == 5)
        // The crashed run's lease still fills the one connection allowed.
        guard case .wait(_, .connections) = try await claim(h, consumer: "node/0", batch: 10, claimTimeout: .seconds(300), connections: 1)
        else {
            Issue.record("expected a wait for the connection")
            return
        }
        let recovery = try await h.queue.recoverClaims(consumer: "node/0", pools: ["default"])
        #expect(recovery == MessageQueue.Recovery(entries: 5, leases: 1))
        guard case .batch(let again) = try await claim(h, consumer: "node/0", batch: 10, claimTimeout: .seconds(300), connections: 1) else {
            Issue.record("the restarted worker should get its claims back at once")
            return
        }
        #expect(Set(again.items.map(\.entryID)) == Set(crashed.items.map(\.entryID)))
        #expect(again.takenOver == 5)
        // Nothing of another consumer is touched.
        #expect(try await h.queue.recoverClaims(consumer: "other/0", pools: ["default"]) == MessageQueue.Recovery(entries: 0, leases: 0))
        await h.shutdown()
    }

    @Test func anIdentityIsHeldByOneProcessAtATime() async throws {
        let h = try await Harness()
        let q = h.queue
        #expect(try await q.acquireIdentity("n/0", token: "A", lease: .seconds(10)) == .acquired)
        guard case .held(by: "A", let remaining) = try await q.acquireIdentity("n/0", token: "B", lease: .seconds(10)) else {
            Issue.record("a second process must not get a held identity")
            return
        }
        #expect(remaining > 0 && remaining <= 10_000)
        // Only when B proved A dead does it take over; A then finds it lost.
        #expect(try await q.acquireIdentity("n/0", token: "B", lease: .seconds(10), deadHolder: "A") == .acquired)
        #expect(try await q.renewIdentity("n/0", token: "A", lease: .seconds(10)) == .lost)
        #expect(try await q.renewIdentity("n/0", token: "B", lease: .seconds(10)) == .renewed)
        try await q.releaseIdentity("n/0", token: "A")
        #expect(try await h.keyCount("hk:node:n/0") == 1, "a former holder must not release it")
        try await q.releaseIdentity("n/0", token: "B")
        #expect(try await h.keyCount("hk:node:n/0") == 0)
        #expect(try await q.renewIdentity("n/0", token: "B", lease: .seconds(10)) == .retaken)
        await h.shutdown()
    }
}
