import HikyakuTestSupport
import NIOCore
import Queue
import RedisClient
import RelayCore
import SMTPProtocol
import Testing

/// The VERP recipient index `hk:rix:<qid>`: written by the enqueue step in the order that
/// defines the tokens' indexes, read back by the worker, kept for the bounce window after
/// the message's last recipient is final.
@Suite(.serialized)
struct RecipientIndexTests {
    typealias Harness = MessageQueueTests.Harness

    func ttl(_ h: Harness, _ key: String) async throws -> Int64 {
        try await h.redis.send(RedisCommand("TTL", [.string(key)])).int ?? -3
    }

    @Test func aVERPMessageGetsAnIndexThatOutlivesItByTheWindow() async throws {
        let h = try await Harness()
        let id = QueueID.generate()
        var message = h.message(["b@two.test", "a@one.test", "c@two.test"], id: id)
        message.account = AccountQuota(name: "acme", hourly: nil, daily: nil)
        message.returnPathDomain = "bounces.acme.example"
        try await h.queue.enqueue(message, body: .inline(ByteBuffer(string: "body")), deadline: MessageQueueTests.farFuture)

        let rix = "hk:rix:\(id.rawValue)"
        let fields = try await h.redis.send(RedisCommand("HGETALL", [.string(rix)])).array?.compactMap(\.string) ?? []
        let hash = Dictionary(uniqueKeysWithValues: stride(from: 0, to: fields.count, by: 2).map { (fields[$0], fields[$0 + 1]) })
        // Domain-sorted, as the work entries are: one.test, then two.test in RCPT order.
        #expect(hash == ["a": "acme", "s": "app@example.com", "m": "<m@x>", "r": "a@one.test\nb@two.test\nc@two.test"])
        let backstop = try await ttl(h, rix)
        #expect(backstop > 0 && backstop <= Int64(h.queue.configuration.recipientIndexBackstopSeconds))

        let loaded = try await h.queue.loadMessages([id])
        #expect(loaded[id]?.returnPath?.domain == "bounces.acme.example")
        #expect(loaded[id]?.returnPath?.recipients == ["a@one.test", "b@two.test", "c@two.test"])
        #expect(loaded[id]?.recipientIndex(of: "c@two.test") == 2)

        // The first domain's outcome leaves the index alone; the last one gives it the window.
        for round in 0..<2 {
            let batch = try #require(try await h.claimAny())
            let item = batch.items[0]
            _ = try await h.queue.complete(
                pool: "default", consumer: "w1", domain: batch.domain,
                outcomes: [WorkOutcome(item: item, finalCount: item.recipients.count, retry: nil, events: [], account: "acme")])
            let left = try await ttl(h, rix)
            if round == 0 {
                #expect(left > Int64(h.queue.configuration.recipientIndexTTLSeconds))
            } else {
                #expect(left > 0 && left <= Int64(h.queue.configuration.recipientIndexTTLSeconds))
            }
        }
        #expect(try await h.keyCount("hk:msg:*") == 0)
        #expect(try await h.keyCount("hk:rix:*") == 1)
        await h.shutdown()
    }

    @Test func plainMailHasNoIndex() async throws {
        let h = try await Harness()
        let id = QueueID.generate()
        try await h.enqueue(["a@one.test"], id: id)
        #expect(try await h.keyCount("hk:rix:*") == 0)
        #expect(try await h.queue.loadMessages([id])[id]?.returnPath == nil)
        await h.shutdown()
    }
}
