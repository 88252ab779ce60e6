import Logging
import NIOCore
import Queue
import RedisClient
import RelayCore
import SMTPProtocol
import Testing

/// A campaign row's at-most-once enqueue (`hk_enqueue`'s once mark) and the campaign
/// store's compare-and-set steps, against a real redis-server.
@Suite(.serialized)
struct CampaignStoreTests {
    typealias Harness = MessageQueueTests.Harness

    func row(_ h: Harness, _ recipient: Mailbox, row: Int, campaign: String = "c1") -> NewMessage {
        var message = h.message([recipient])
        message.once = EnqueueOnce(campaign: campaign, row: row)
        return message
    }

    @Test func aRowIsStoredOnceWhateverRetriesItAndSetsItsBitAndCounters() async throws {
        let h = try await Harness()
        let store = CampaignStore(redis: h.redis)
        try await h.queue.enqueue(row(h, "a@example.net", row: 5), body: .inline(ByteBuffer(string: "x")), deadline: Self.far)
        // The same row again (a runner killed after the enqueue, before it saw the reply): refused, nothing written.
        do {
            try await h.queue.enqueue(row(h, "a@example.net", row: 5), body: .inline(ByteBuffer(string: "x")), deadline: Self.far)
            Issue.record("the row was enqueued twice")
        } catch {
            #expect(error.isAlreadyEnqueued)
        }
        #expect(try await h.keyCount("hk:msg:*") == 1)
        // Another campaign's row 5 is its own.
        try await h.queue.enqueue(
            row(h, "a@example.net", row: 5, campaign: "c2"), body: .inline(ByteBuffer(string: "x")), deadline: Self.far)
        #expect(try await store.doneRows("c1", from: 3, count: 4) == [false, false, true, false])
        #expect(try await store.statistics("c1") == ["queued": 1])
        await h.shutdown()
    }

    @Test func anAllSuppressedRowIsSettledAndCounted() async throws {
        let h = try await Harness()
        _ = try await h.redis.send(RedisCommand("HSET", ["hk:sup:@global", "gone@example.net", #"{"reason":"unsubscribe"}"#]))
        await #expect(throws: QueueError.self) {
            try await h.queue.enqueue(row(h, "gone@example.net", row: 0), body: .inline(ByteBuffer(string: "x")), deadline: Self.far)
        }
        let store = CampaignStore(redis: h.redis)
        #expect(try await store.doneRows("c1", from: 0, count: 1) == [true])
        #expect(try await store.statistics("c1") == ["suppressed": 1])
        await h.shutdown()
    }

    @Test func cancelIsFinalAndTheCursorNeverMovesBack() async throws {
        let h = try await Harness()
        let store = CampaignStore(redis: h.redis)
        try await store.create(id: "c9", account: "acme", definition: "{}", rows: 10)
        #expect(try await store.transition("c9", to: "paused", from: ["running", "scheduled"]) == "scheduled")
        #expect(try await store.transition("c9", to: "cancelled", from: ["paused"], reason: "by hand") == "paused")
        #expect(try await store.transition("c9", to: "running", from: ["paused"]) == nil)
        #expect(try await store.get("c9")?.reason == "by hand")
        try await store.advance("c9", cursor: 7)
        try await store.advance("c9", cursor: 3)
        #expect(try await store.get("c9")?.cursor == 7)
        #expect(try await store.ids() == ["c9"])
        await h.shutdown()
    }

    static let far = WallClock.nowMilliseconds() + 600_000
}
