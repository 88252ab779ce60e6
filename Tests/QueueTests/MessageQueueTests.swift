import HikyakuTestSupport
import Logging
import NIOCore
import NIOPosix
import Queue
import RedisClient
import RelayCore
import Testing

/// The queue's Redis data model, against a real redis-server.
@Suite(.serialized)
struct MessageQueueTests {
    final class Harness: @unchecked Sendable {
        let server: RedisServerProcess
        let redis: RedisClient
        let queue: MessageQueue

        init() async throws {
            server = try await RedisServerProcess.start()
            let endpoint = try RedisEndpoint(url: server.url)
            redis = RedisClient(configuration: .init(endpoint: endpoint), eventLoopGroup: MultiThreadedEventLoopGroup.singleton,
                                logger: Logger(label: "test"), onConnect: { try await MessageQueue.prepare(connection: $0) })
            queue = MessageQueue(redis: redis, logger: Logger(label: "test"))
        }

        func shutdown() async {
            await redis.shutdown()
            server.stop()
        }

        func message(_ recipients: [String], id: QueueID = .generate()) -> NewMessage {
            NewMessage(queueID: id, sender: "app@example.com", recipients: recipients, messageID: "<m@x>", size: 5, clientIP: "127.0.0.1", authUser: nil)
        }

        func keyCount(_ pattern: String) async throws -> Int {
            try await redis.send(RedisCommand("KEYS", [.string(pattern)])).array?.count ?? -1
        }
    }

    static let farFuture = Clock.nowMilliseconds() + 60_000

    @Test func enqueueGroupsRecipientsByDomainAndClaimReturnsThem() async throws {
        let h = try await Harness()
        let id = QueueID.generate()
        try await h.queue.enqueue(h.message(["a@Example.NET", "b@example.net", "c@other.test"], id: id), body: .inline(ByteBuffer(string: "hello")), deadline: Self.farFuture)

        var seen: [String: [String]] = [:]
        for _ in 0..<2 {
            guard case .batch(let batch) = try await h.queue.claim(consumer: "w1", batchSize: 10, claimTimeout: .seconds(60), lease: .seconds(30)) else {
                Issue.record("expected a batch"); break
            }
            #expect(batch.items.count == 1)
            #expect(batch.items[0].queueID == id)
            seen[batch.domain] = batch.items[0].recipients
        }
        #expect(seen["example.net"]?.sorted() == ["a@Example.NET", "b@example.net"])
        #expect(seen["other.test"] == ["c@other.test"])
        let messages = try await h.queue.loadMessages([id])
        #expect(messages[id].map { String(buffer: $0.body) } == "hello")
        #expect(messages[id]?.sender == "app@example.com")
        await h.shutdown()
    }

    @Test func completingEveryRecipientDeletesTheMessageAndRecordsEvents() async throws {
        let h = try await Harness()
        let id = QueueID.generate()
        try await h.queue.enqueue(h.message(["a@one.test"], id: id), body: .inline(ByteBuffer(string: "x")), deadline: Self.farFuture)
        guard case .batch(let batch) = try await h.queue.claim(consumer: "w1", batchSize: 10, claimTimeout: .seconds(60), lease: .seconds(30)) else {
            Issue.record("expected a batch"); return
        }
        var event = DeliveryEvent(event: .delivered, time: "t", queueID: id.rawValue, messageID: nil, sender: "s")
        event.recipient = "a@one.test"
        let acked = try await h.queue.complete(consumer: "w1", domain: batch.domain, outcomes: [WorkOutcome(item: batch.items[0], finalCount: 1, retry: nil, events: [event])])
        #expect(acked == 1)
        #expect(try await h.keyCount("hk:msg:*") == 0)
        #expect(try await h.keyCount("hk:body:*") == 0)
        #expect(try await h.keyCount("hk:q:*") == 0)
        let events = try await EventLog(redis: h.redis).read(after: "0", count: 10)
        #expect(events.map(\.event.event) == [.accepted, .delivered])
        if case .idle = try await h.queue.claim(consumer: "w1", batchSize: 10, claimTimeout: .seconds(60), lease: .seconds(30)) {} else {
            Issue.record("queue should be empty")
        }
        await h.shutdown()
    }

    @Test func anEnqueueArrivingAfterItsDeadlineStoresNothing() async throws {
        let h = try await Harness()
        await #expect(throws: QueueError.self) {
            try await h.queue.enqueue(h.message(["a@one.test"]), body: .inline(ByteBuffer(string: "x")), deadline: Clock.nowMilliseconds() - 1000)
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
        try await h.queue.enqueue(h.message(["a@one.test", "b@one.test"]), body: .inline(ByteBuffer(string: "x")), deadline: Self.farFuture)
        guard case .batch(let batch) = try await h.queue.claim(consumer: "w1", batchSize: 10, claimTimeout: .seconds(60), lease: .seconds(30)) else {
            Issue.record("expected a batch"); return
        }
        // a delivered, b deferred until (almost) now.
        try await h.queue.complete(consumer: "w1", domain: batch.domain, outcomes: [
            WorkOutcome(item: batch.items[0], finalCount: 1, retry: (["b@one.test"], Clock.nowMilliseconds() - 1000), events: []),
        ])
        if case .batch = try await h.queue.claim(consumer: "w1", batchSize: 10, claimTimeout: .seconds(60), lease: .seconds(30)) {
            Issue.record("deferred work must not be claimable before it is promoted")
        }
        #expect(try await h.queue.promoteDue() == 1)
        guard case .batch(let retry) = try await h.queue.claim(consumer: "w1", batchSize: 10, claimTimeout: .seconds(60), lease: .seconds(30)) else {
            Issue.record("expected the retry"); return
        }
        #expect(retry.items.map(\.recipients) == [["b@one.test"]])
        #expect(retry.items[0].previousAttempts == 1)
        #expect(retry.items[0].acceptedAt == batch.items[0].acceptedAt)
        // The message stays until its last recipient is final.
        #expect(try await h.keyCount("hk:body:*") == 1)
        try await h.queue.complete(consumer: "w1", domain: retry.domain, outcomes: [WorkOutcome(item: retry.items[0], finalCount: 1, retry: nil, events: [])])
        #expect(try await h.keyCount("hk:body:*") == 0)
        await h.shutdown()
    }

    @Test func aDeadWorkersBatchIsTakenOverAndItsLateCompletionIgnored() async throws {
        let h = try await Harness()
        try await h.queue.enqueue(h.message(["a@one.test"]), body: .inline(ByteBuffer(string: "x")), deadline: Self.farFuture)
        guard case .batch(let first) = try await h.queue.claim(consumer: "dead", batchSize: 10, claimTimeout: .milliseconds(200), lease: .milliseconds(1)) else {
            Issue.record("expected a batch"); return
        }
        try await Task.sleep(for: .milliseconds(300))
        // The domain comes due again after the claim timeout; another worker takes the entry over.
        var takenOver: ClaimedBatch?
        for _ in 0..<50 {
            if case .batch(let batch) = try await h.queue.claim(consumer: "alive", batchSize: 10, claimTimeout: .milliseconds(200), lease: .seconds(30)), !batch.items.isEmpty {
                takenOver = batch
                break
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        #expect(takenOver?.items.map(\.entryID) == first.items.map(\.entryID))
        // The presumed-dead worker wakes up: its completion must not be applied.
        let stale = try await h.queue.complete(consumer: "dead", domain: first.domain, outcomes: [WorkOutcome(item: first.items[0], finalCount: 1, retry: nil, events: [])])
        #expect(stale == 0)
        #expect(try await h.keyCount("hk:body:*") == 1)
        await h.shutdown()
    }
}
