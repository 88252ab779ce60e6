import HikyakuMetrics
import HikyakuTestSupport
import Logging
import NIOCore
import NIOPosix
import Queue
import RedisClient
import RelayCore
import SMTPProtocol
import Testing

@testable import Ingest

/// The intake's checks at the end of data (no I/O: the Redis client never connects), and
/// its enqueue against a real redis-server.
@Suite(.serialized)
struct MessageIntakeTests {
    static let logger = Logger(label: "test")

    static func intake(redisURL: String = "redis://127.0.0.1:1", maxReceived: Int = 30) throws -> (MessageIntake, RedisClient) {
        let redis = RedisClient(
            configuration: .init(endpoint: try RedisEndpoint(url: redisURL)),
            eventLoopGroup: MultiThreadedEventLoopGroup.singleton, logger: logger,
            onConnect: { try await MessageQueue.prepare(connection: $0) })
        var settings = IngestSettings()
        settings.maxReceivedHeaders = maxReceived
        let accounts = AccountDirectory(store: AccountStore(redis: redis), staticUsers: [], logger: logger)
        let intake = MessageIntake(
            queue: MessageQueue(redis: redis, logger: logger), accounts: accounts, hostname: "relay.test",
            settings: settings)
        return (intake, redis)
    }

    static func acme(hourly: Int? = nil) -> Account {
        var account = Account(name: "acme", createdAt: "")
        account.restrictSenders = true
        account.sendingDomains = ["acme.example"]
        account.hourlyQuota = hourly
        return account
    }

    static func submitter(_ account: Account?) -> MessageIntake.Submitter {
        MessageIntake.Submitter(listener: "relay", clientIP: "192.0.2.7", authUser: account?.name, account: account, logger: logger)
    }

    static func message(_ intake: MessageIntake, _ content: String, account: Account?) -> IncomingMessage {
        var message = intake.startMessage(
            from: submitter(account),
            trace: .init(heloName: "client.example", protocolName: "ESMTPA", onlyRecipient: "b@example.org"))
        message.append(ByteBuffer(string: content))
        message.finish()
        return message
    }

    @Test func addsReceivedAndMessageID() throws {
        let (intake, _) = try Self.intake()
        var message = Self.message(intake, "Subject: hi\r\n\r\nbody\r\n", account: nil)
        let stored = String(buffer: message.takeFlushable())
        #expect(
            stored.hasPrefix(
                "Received: from client.example ([192.0.2.7])\r\n\tby relay.test (Hikyaku) with ESMTPA id \(message.queueID)\r\n\tfor <b@example.org>; "
            ))
        #expect(stored.contains("\r\nMessage-ID: <\(message.queueID.rawValue)@relay.test>\r\nSubject: hi\r\n\r\nbody\r\n"))
        #expect(message.messageID == "<\(message.queueID.rawValue)@relay.test>")
    }

    @Test func refusesAMailLoop() throws {
        let (intake, _) = try Self.intake(maxReceived: 3)
        let received = String(repeating: "Received: from a by b; Sun, 1 Jan 2026 00:00:00 +0000\r\n", count: 4)
        let message = Self.message(intake, received + "From: a@acme.example\r\n\r\nbody\r\n", account: nil)
        let result = try #require(intake.check(message, from: Self.submitter(nil)))
        #expect(result.outcome == .refused(.mailLoop))
        #expect(
            result.reply == SMTPReply(554, "5.4.6", "Mail loop: the message has 4 Received: header fields, more than 3 (RFC 5321 §6.3)"))
        #expect(result.queueResult == .failed(result.reply))
        #expect(result.httpStatus == 422)
    }

    @Test func refusesAForeignAuthorDomain() throws {
        let (intake, _) = try Self.intake()
        let message = Self.message(intake, "From: Acme <news@acme.example>, ceo@bank.example\r\n\r\nbody\r\n", account: Self.acme())
        let result = try #require(intake.check(message, from: Self.submitter(Self.acme())))
        #expect(result.outcome == .refused(.fromDomain))
        #expect(result.reply == SMTPReply(550, "5.7.1", "From: header domain bank.example is not a sending domain of account acme"))
        #expect(result.httpStatus == 403)
    }

    @Test func refusesTwoFromFields() throws {
        let (intake, _) = try Self.intake()
        let message = Self.message(intake, "From: a@acme.example\r\nFrom: b@acme.example\r\n\r\nbody\r\n", account: Self.acme())
        let result = try #require(intake.check(message, from: Self.submitter(Self.acme())))
        #expect(result.outcome == .refused(.fromDomain))
        #expect(result.reply == SMTPReply(550, "5.6.0", "Message must have exactly one From: header field (it has 2)"))
        #expect(result.httpStatus == 422)
    }

    @Test func passesOwnAuthorAndAllowListedNetworks() throws {
        let (intake, _) = try Self.intake()
        let own = Self.message(intake, "From: news@acme.example\r\n\r\nbody\r\n", account: Self.acme())
        #expect(intake.check(own, from: Self.submitter(Self.acme())) == nil)
        // No account (the operator's own networks): the author fields are not checked.
        let foreign = Self.message(intake, "From: ceo@bank.example\r\n\r\nbody\r\n", account: nil)
        #expect(intake.check(foreign, from: Self.submitter(nil)) == nil)
    }

    // MARK: Against redis-server

    @Test func enqueuesInlineAndStreamedAndRefusesOverQuota() async throws {
        let server = try await RedisServerProcess.start()
        defer { server.stop() }
        let (intake, redis) = try Self.intake(redisURL: server.url)
        let envelope = MessageIntake.Envelope(sender: "news@acme.example", recipients: ["b@example.org"])

        let inline = Self.message(intake, "From: news@acme.example\r\n\r\nbody\r\n", account: Self.acme(hourly: 2))
        let queued = await intake.enqueue(inline, envelope: envelope, from: Self.submitter(Self.acme(hourly: 2)), streamed: false)
        #expect(queued.outcome == .queued)
        #expect(queued.reply == SMTPReply(250, "2.0.0", "Ok: queued as \(inline.queueID.rawValue)"))
        #expect(queued.httpStatus == 202)

        // A streamed body: the first piece went ahead with APPEND, the rest goes with the enqueue.
        var streamed = Self.message(
            intake, "From: news@acme.example\r\n\r\n" + String(repeating: "x", count: 1000) + "\r\n", account: Self.acme(hourly: 2))
        try await intake.queue.appendBody(queueID: streamed.queueID, chunk: streamed.takeFlushable())
        streamed.append(ByteBuffer(string: "tail\r\n"))
        let second = await intake.enqueue(streamed, envelope: envelope, from: Self.submitter(Self.acme(hourly: 2)), streamed: true)
        #expect(second.outcome == .queued)
        let body = try await redis.send(RedisCommand("KEYS", ["*tmp:*"]))
        #expect(body.array?.isEmpty == true)

        // The third recipient of the hour is over the quota of 2: nothing stored, 451, 429.
        var third = Self.message(intake, "From: news@acme.example\r\n\r\nbody\r\n", account: Self.acme(hourly: 2))
        try await intake.queue.appendBody(queueID: third.queueID, chunk: third.takeFlushable())
        let refused = await intake.enqueue(third, envelope: envelope, from: Self.submitter(Self.acme(hourly: 2)), streamed: true)
        #expect(refused.outcome == .refused(.quota))
        #expect(refused.reply.code == 451 && refused.reply.enhancedStatus?.description == "4.7.0")
        #expect(refused.reply.lines.joined().contains("hourly quota of 2 recipients of account acme is used up"))
        #expect(refused.httpStatus == 429)
        let left = try await redis.send(RedisCommand("KEYS", ["*tmp:*"]))
        #expect(left.array?.isEmpty == true, "a refused streamed body is deleted")
        await redis.shutdown()
    }
}
