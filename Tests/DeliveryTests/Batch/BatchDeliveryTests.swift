import HikyakuTestSupport
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import Queue
import RedisClient
import RelayCore
import SMTPProtocol
import Testing

@testable import Delivery

/// `BatchDelivery.run` end to end: messages enqueued and claimed in a real redis-server,
/// sent to an SMTP server on loopback (``FakeMX``); what `settle` is handed per item, what
/// comes back untried, and what the server saw.
@Suite(.serialized)
struct BatchDeliveryTests {
    /// A redis-server with a queue, and an MX whose replies to each message's end of data
    /// (and `MAIL`) come from `script(transaction, line)`: transaction 1 is the first `MAIL`.
    final class Harness: @unchecked Sendable {
        let server: RedisServerProcess
        let redis: RedisClient
        let queue: MessageQueue
        let mx: FakeMX

        init(script: @escaping @Sendable (_ transaction: Int, _ line: String) -> String? = { _, _ in nil }) async throws {
            server = try await RedisServerProcess.start()
            redis = RedisClient(
                configuration: .init(endpoint: try RedisEndpoint(url: server.url)), eventLoopGroup: SMTPDeliverySessionTests.group,
                logger: Logger(label: "test"), onConnect: { try await MessageQueue.prepare(connection: $0) })
            queue = MessageQueue(redis: redis, logger: Logger(label: "test"))
            let transactions = NIOLockedValueBox(0)
            mx = try await FakeMX(group: SMTPDeliverySessionTests.group, greeting: "220 mx.test ESMTP") { line in
                let transaction = transactions.withLockedValue { count in
                    if line.hasPrefix("MAIL") { count += 1 }
                    return count
                }
                return script(transaction, line) ?? SMTPDeliverySessionTests.pipelining(line)
            }
        }

        func shutdown() async {
            await mx.stop()
            await redis.shutdown()
            server.stop()
        }

        @discardableResult
        func enqueue(_ recipients: [Mailbox], body: String = "Subject: hi\r\n\r\nhello\r\n") async throws -> QueueID {
            let id = QueueID.generate()
            let message = NewMessage(
                queueID: id, sender: "app@example.com", recipients: recipients, messageID: "<\(id)@x>", size: body.utf8.count,
                clientIP: "127.0.0.1", authUser: nil)
            try await queue.enqueue(message, body: .inline(ByteBuffer(string: body)), deadline: WallClock.nowMilliseconds() + 60_000)
            return id
        }

        func claim() async throws -> ClaimedBatch {
            guard case .domain(let domain, _) = try await queue.next(pool: .default, hold: .seconds(10)) else {
                throw ClaimFailed()
            }
            let result = try await queue.claim(
                pool: .default, domain: domain, site: "site.test", consumer: "w1", batchSize: 10, claimTimeout: .seconds(60),
                siteRate: nil,
                candidates: [EgressCandidate(egress: "ip1", maxConnections: 0, rate: nil, connectionRate: nil, warmupCap: nil)])
            guard case .batch(let batch) = result else { throw ClaimFailed() }
            return batch
        }

        struct ClaimFailed: Error {}

        /// Claims everything due and runs it; returns the outcome, what `settle` was handed
        /// (in order) and the failure replies shown to `onFailureReply`.
        func run(
            maxReceivedHeaders: Int = 30, pipelinesNextMessage: Bool = true,
            decide: @escaping @Sendable (SMTPReply) -> BatchDelivery.Decision = { _ in .proceed }
        )
            async throws -> (BatchDelivery.Outcome, settled: [WorkOutcome], shown: [SMTPReply], batch: ClaimedBatch)
        {
            let batch = try await claim()
            var context = try SMTPDeliverySessionTests.context()
            context.queue = queue
            context.maxReceivedHeaders = maxReceivedHeaders
            let delivery = BatchDelivery(
                context: context, batch: batch, route: .success([SMTPDeliverySessionTests.target(mx)]),
                origin: SMTPDeliverySessionTests.origin(pipelinesNextMessage: pipelinesNextMessage))
            let settled = NIOLockedValueBox<[WorkOutcome]>([])
            let shown = NIOLockedValueBox<[SMTPReply]>([])
            let outcome = try await delivery.run(
                session: nil, settle: { outcome in settled.withLockedValue { $0.append(outcome) } },
                onFailureReply: { reply in
                    shown.withLockedValue { $0.append(reply) }
                    return decide(reply)
                })
            return (outcome, settled.withLockedValue { $0 }, shown.withLockedValue { $0 }, batch)
        }
    }

    static func kinds(_ outcomes: [WorkOutcome]) -> [[DeliveryEvent.Kind]] {
        outcomes.map { $0.events.map(\.event) }
    }

    static func mails(_ mx: FakeMX) -> Int {
        mx.received.filter { $0.hasPrefix("MAIL") }.count
    }

    @Test func everyMessageDeliveredOnOneConnectionWhichIsKept() async throws {
        let h = try await Harness()
        let a = try await h.enqueue(["a@example.test"])
        let b = try await h.enqueue(["b@example.test", "c@example.test"])
        let (outcome, settled, shown, batch) = try await h.run()
        #expect(batch.items.count == 2)
        #expect(settled.map(\.item.queueID) == [a, b])
        try #require(Self.kinds(settled) == [[.delivered], [.delivered, .delivered]])
        #expect(settled.map(\.finalCount) == [1, 2])
        #expect(settled.allSatisfy { $0.retry == nil })
        #expect(settled[1].events.map(\.recipient) == ["b@example.test", "c@example.test"])
        #expect(settled[0].events[0].reply == "250 2.0.0 Ok: queued as 1")
        #expect(settled[0].events[0].remoteHost == "mx.test" && settled[0].events[0].egressIP == "ip1")
        #expect(outcome.untried.isEmpty && shown.isEmpty)
        let session = try #require(outcome.session)
        #expect(session.isUsable)
        #expect(Self.mails(h.mx) == 2)
        #expect(
            h.mx.received.filter { $0.hasPrefix("<content>") } == [
                "<content>Subject: hi\r\n\r\nhello", "<content>Subject: hi\r\n\r\nhello",
            ])
        #expect(!h.mx.received.contains("QUIT"))
        await session.quit()
        await h.shutdown()
    }

    @Test func theNextEnvelopeFollowsEachContentInTheSameWrite() async throws {
        let h = try await Harness()
        try await h.enqueue(["a@example.test"])
        try await h.enqueue(["b@example.test", "c@example.test"])
        try await h.enqueue(["d@example.test"])
        let (outcome, settled, _, _) = try await h.run()
        try #require(Self.kinds(settled) == [[.delivered], [.delivered, .delivered], [.delivered]])
        // RFC 2920 §3.1: one write (one read at the server) carries a content and the next
        // transaction's commands; the last content goes alone, and the connection is kept.
        let arrivals = h.mx.arrivals.filter { $0.contains("<content>") }
        #expect(
            arrivals.map { $0.map { $0.hasPrefix("MAIL") ? "MAIL" : $0 } } == [
                ["<content>", "MAIL", "RCPT TO:<b@example.test>", "RCPT TO:<c@example.test>", "DATA"],
                ["<content>", "MAIL", "RCPT TO:<d@example.test>", "DATA"],
                ["<content>"],
            ])
        let session = try #require(outcome.session)
        #expect(session.isUsable)
        await session.quit()
        #expect(Self.mails(h.mx) == 3)
        await h.shutdown()
    }

    @Test func aSiteThatTurnsItOffGetsEachEnvelopeAfterTheReplyToTheContentBefore() async throws {
        let h = try await Harness()
        try await h.enqueue(["a@example.test"])
        try await h.enqueue(["b@example.test"])
        let (outcome, settled, _, _) = try await h.run(pipelinesNextMessage: false)
        try #require(Self.kinds(settled) == [[.delivered], [.delivered]])
        #expect(h.mx.arrivals.filter { $0.contains("<content>") } == [["<content>"], ["<content>"]])
        await outcome.session?.quit()
        await h.shutdown()
    }

    @Test func aChainedEnvelopeWithManyRecipientsHasAllItsRepliesKept() async throws {
        let h = try await Harness()
        try await h.enqueue(["a@example.test"])
        let many = (1...40).map { Mailbox(parsing: "r\($0)@example.test")! }
        try await h.enqueue(many)
        let (_, settled, _, _) = try await h.run()
        // 42 replies to the chained commands arrive before anyone asks for them: more than
        // the client keeps unasked from a server, but announced.
        try #require(Self.kinds(settled) == [[.delivered], Array(repeating: .delivered, count: 40)])
        #expect(h.mx.arrivals.contains { $0.first == "<content>" && $0.count == 43 })
        await h.shutdown()
    }

    @Test func aRefusedChainedEnvelopeIsResetAndTheBatchGoesOn() async throws {
        let h = try await Harness(script: { transaction, line in
            transaction == 2 && line.hasPrefix("RCPT") ? "550 5.1.1 no such user" : nil
        })
        try await h.enqueue(["a@example.test"])
        try await h.enqueue(["b@example.test"])
        try await h.enqueue(["c@example.test"])
        let (outcome, settled, _, _) = try await h.run()
        try #require(Self.kinds(settled) == [[.delivered], [.bounced], [.delivered]])
        #expect(settled[1].events[0].reply == "550 5.1.1 no such user")
        // The second envelope came with the first content; its 354 got an empty content
        // (nothing delivered, RFC 2920 §3.1), and the third envelope was sent afresh.
        #expect(h.mx.received.filter { $0.hasPrefix("<content>") }.count == 3)
        #expect(h.mx.received.filter { $0 == "<content>" }.count == 1)
        #expect(Self.mails(h.mx) == 3)
        #expect(outcome.session?.isUsable == true)
        await outcome.session?.quit()
        await h.shutdown()
    }

    @Test func a421MidBatchDefersTheRestWithThatReplyAndClosesTheSession() async throws {
        let h = try await Harness(script: { transaction, line in
            transaction == 2 && line == "<content>" ? "421 4.7.0 too busy, come back later" : nil
        })
        try await h.enqueue(["a@example.test"])
        try await h.enqueue(["b@example.test"])
        try await h.enqueue(["c@example.test", "d@example.test"])
        let (outcome, settled, shown, _) = try await h.run()
        try #require(Self.kinds(settled) == [[.delivered], [.deferred], [.deferred, .deferred]])
        #expect(settled[1].events[0].reply == "421 4.7.0 too busy, come back later")
        #expect(
            settled[2].events.map(\.reply)
                == Array(
                    repeating: "421 4.7.0 too busy, come back later (connection closed by the server before this message)", count: 2))
        #expect(settled[2].retry?.recipients == ["c@example.test", "d@example.test"])
        #expect(settled[1].events[0].nextAttemptAt != nil && settled[2].finalCount == 0)
        #expect(shown.map(\.code) == [421])
        #expect(outcome.session == nil && outcome.untried.isEmpty)
        // The third message's envelope followed the second's content (RFC 2920 §3.1), but
        // its content was never sent.
        #expect(Self.mails(h.mx) == 3)
        #expect(h.mx.received.filter { $0.hasPrefix("<content>") }.count == 2)
        await h.shutdown()
    }

    @Test func aConnectionLostDefersOnlyTheMessageInFlight() async throws {
        let h = try await Harness(script: { transaction, line in
            transaction == 2 && line.hasPrefix("MAIL") ? FakeMX.hangUp : nil
        })
        try await h.enqueue(["a@example.test"])
        try await h.enqueue(["b@example.test"])
        let third = try await h.enqueue(["c@example.test"])
        let (outcome, settled, shown, batch) = try await h.run()
        try #require(Self.kinds(settled) == [[.delivered], [.deferred]])
        let reply = try #require(settled[1].events[0].reply)
        #expect(reply.hasPrefix("451 4.4.2 Connection to mx.test lost"))
        #expect(settled[1].retry?.recipients == ["b@example.test"])
        #expect(outcome.untried.map(\.queueID) == [third])
        #expect(outcome.untried == [batch.items[2]])
        #expect(outcome.session == nil && shown.isEmpty)
        await h.shutdown()
    }

    @Test func aBackoffRuleStoppingTheBatchLeavesTheRestUntriedAndQuits() async throws {
        let h = try await Harness(script: { transaction, line in
            transaction == 2 && line == "<content>" ? "550 5.7.1 rate limited, blocked" : nil
        })
        try await h.enqueue(["a@example.test"])
        try await h.enqueue(["b@example.test"])
        let third = try await h.enqueue(["c@example.test"])
        let (outcome, settled, shown, _) = try await h.run(decide: { $0.code == 550 ? .stop : .proceed })
        // The message that drew the reply is decided by it; the rest is given back.
        try #require(Self.kinds(settled) == [[.delivered], [.bounced]])
        #expect(settled[1].events[0].reply == "550 5.7.1 rate limited, blocked")
        #expect(settled[1].finalCount == 1)
        #expect(shown.map(\.code) == [550])
        #expect(outcome.untried.map(\.queueID) == [third])
        #expect(outcome.session == nil)
        // The third message's envelope had followed the second's content; the server may be
        // waiting for its content, where a QUIT would be read as content: the connection is
        // closed instead, and nothing of the third is delivered.
        #expect(Self.mails(h.mx) == 3)
        #expect(h.mx.received.filter { $0.hasPrefix("<content>") }.count == 2)
        #expect(h.mx.received.last == "DATA" && !h.mx.received.contains("QUIT"))
        await h.shutdown()
    }

    @Test func aMessageThatWentRoundALoopIsBouncedUnsent() async throws {
        let h = try await Harness()
        // Ours (the first, not counted) and three more: over a limit of 2.
        let looping = try await h.enqueue(
            ["a@example.test"],
            body: String(repeating: "Received: from x by y; Sun, 6 Dec 2026 10:00:00 +0000\r\n", count: 4) + "\r\nhi\r\n")
        let fine = try await h.enqueue(["b@example.test"])
        let (outcome, settled, _, _) = try await h.run(maxReceivedHeaders: 2)
        #expect(settled.map(\.item.queueID) == [looping, fine])
        try #require(Self.kinds(settled) == [[.bounced], [.delivered]])
        #expect(
            settled[0].events[0].reply
                == "554 5.4.6 Mail loop: the message arrived with 3 Received: header fields, more than 2 (RFC 5321 §6.3)")
        #expect(settled[0].events[0].remoteHost == nil && settled[0].finalCount == 1)
        #expect(!h.mx.received.contains("RCPT TO:<a@example.test>"))
        #expect(h.mx.received.contains("RCPT TO:<b@example.test>"))
        #expect(Self.mails(h.mx) == 1)
        await outcome.session?.quit()
        await h.shutdown()
    }
}
