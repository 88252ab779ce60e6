import DNSResolver
import HikyakuTestSupport
import Logging
import NIOCore
import NIOPosix
import Queue
import RedisClient
import RelayCore
import SMTPProtocol
import Testing

@testable import Delivery

/// The delivery session against SMTP servers on loopback (``FakeMX``): opening under the
/// TLS a site requires, per-recipient results, and the typed replies they keep.
@Suite struct SMTPDeliverySessionTests {
    static let group = MultiThreadedEventLoopGroup.singleton

    static func context(_ settings: DeliverySettings = Self.settings()) throws -> DeliveryContext {
        let logger = Logger(label: "test")
        let redis = RedisClient(
            configuration: .init(endpoint: try RedisEndpoint(url: "redis://127.0.0.1:1")), eventLoopGroup: group, logger: logger)
        let dns = DNSResolver(configuration: DNSResolverConfiguration(servers: []), eventLoopGroup: group, logger: logger)
        return DeliveryContext(
            settings: settings, heloName: "relay.test", node: "test", group: group,
            queue: MessageQueue(redis: redis, logger: logger),
            router: DestinationRouter(
                routes: [:], mxPort: 25, dns: dns, policy: DestinationPolicy(listeners: []),
                localAddresses: LocalAddresses()),
            maxReceivedHeaders: 30, tls: try OutboundTLSContexts(settings: settings), mtaSTS: nil, dane: nil, logger: logger)
    }

    static func settings() -> DeliverySettings {
        var settings = DeliverySettings()
        settings.commandTimeout = .seconds(5)
        settings.connectTimeout = .seconds(5)
        return settings
    }

    static func origin(tlsRequired: Bool = false, pipelinesNextMessage: Bool = true) -> SMTPDeliverySession.Origin {
        .init(localAddress: nil, heloName: "relay.test", tlsRequired: tlsRequired, pipelinesNextMessage: pipelinesNextMessage)
    }

    static func target(_ mx: FakeMX, host: String = "mx.test") -> DestinationRouter.Target {
        DestinationRouter.Target(host: host, addresses: [mx.address], isRoute: true)
    }

    /// A well-behaved server with PIPELINING that refuses `nobody@`.
    static func pipelining(_ line: String) -> String? {
        switch line.prefix(4).uppercased() {
        case "EHLO": "250-mx.test|250-PIPELINING|250 SIZE 1000000"
        case "MAIL": "250 2.1.0 Ok"
        case "RCPT": line.contains("nobody@") ? "550-5.1.1 no such user|550 5.1.1 really" : "250 2.1.5 Ok"
        case "DATA": "354 go ahead"
        case "<CON": "250 2.0.0 Ok: queued as 1"
        case "RSET": "250 2.0.0 Ok"
        case "QUIT": "221 2.0.0 bye"
        default: "502 5.5.2 unknown"
        }
    }

    @Test func pipelinedTransactionGivesEachRecipientItsReply() async throws {
        let mx = try await FakeMX(group: Self.group, greeting: "220 mx.test ESMTP", respond: Self.pipelining)
        var session = try await SMTPDeliverySession.open(
            targets: [Self.target(mx)], domain: "example.test", origin: Self.origin(),
            context: try Self.context(), logger: Logger(label: "test"))
        #expect(session.capabilities.pipelining && !session.isTLS)
        let results = try await session.transact(
            sender: "a@example.com", recipients: ["b@example.test", "nobody@example.test"],
            body: ByteBuffer(string: "Subject: hi\r\n\r\n.dot\r\n"))
        #expect(results.map(\.recipient) == ["b@example.test", "nobody@example.test"])
        #expect(results.map(\.kind) == [.delivered, .bounced])
        #expect(
            results[1].remoteReply == SMTPReply(code: 550, enhancedStatus: EnhancedStatusCode(5, 1, 1), lines: ["no such user", "really"]))
        #expect(results[1].reply == "550 5.1.1 no such user really")
        #expect(results[0].remoteHost == "mx.test" && results[0].remoteIP == "127.0.0.1")
        await session.quit()
        #expect(mx.received.contains("MAIL FROM:<a@example.com> SIZE=21"))
        #expect(mx.received.contains("<content>Subject: hi\r\n\r\n..dot"))
        #expect(mx.received.last == "QUIT")
        await mx.stop()
    }

    @Test func aRefusedGreetingMovesToTheNextHostAndIsKeptForBackoff() async throws {
        let refusing = try await FakeMX(group: Self.group, greeting: "554 5.7.1 go away", respond: { _ in nil })
        let context = try Self.context()
        await #expect {
            _ = try await SMTPDeliverySession.open(
                targets: [Self.target(refusing)], domain: "example.test", origin: Self.origin(),
                context: context, logger: Logger(label: "test"))
        } throws: { error in
            guard let failure = error as? RecipientFailure else { return false }
            return failure.reply.hasPrefix("451 4.4.1 Could not reach any mail exchanger: mx.test [127.0.0.1]: 554 5.7.1 go away")
                && failure.remoteReply?.code == 554
        }
        let good = try await FakeMX(group: Self.group, greeting: "220 mx2.test", respond: Self.pipelining)
        let session = try await SMTPDeliverySession.open(
            targets: [Self.target(refusing), Self.target(good, host: "mx2.test")], domain: "example.test",
            origin: Self.origin(), context: context, logger: Logger(label: "test"))
        #expect(session.host == "mx2.test")
        await session.quit()
        await refusing.stop()
        await good.stop()
    }

    @Test func tlsRequiredButNotOfferedIsDeferredWith475AfterQUIT() async throws {
        let mx = try await FakeMX(group: Self.group, greeting: "220 mx.test", respond: Self.pipelining)
        var settings = Self.settings()
        settings.verifyTLSRequired = false
        await #expect {
            _ = try await SMTPDeliverySession.open(
                targets: [Self.target(mx)], domain: "example.test", origin: Self.origin(tlsRequired: true),
                context: try Self.context(settings), logger: Logger(label: "test"))
        } throws: { error in
            (error as? RecipientFailure)?.reply == "451 4.7.5 TLS is required for this site and mx.test did not offer it"
        }
        #expect(mx.received == ["EHLO relay.test", "QUIT"])
        await mx.stop()
    }

    @Test func ehloRefusedFallsBackToHELO() async throws {
        let mx = try await FakeMX(
            group: Self.group, greeting: "220 old.test",
            respond: { line in
                switch line.prefix(4) {
                case "EHLO": "500 5.5.1 what?"
                case "HELO": "250 old.test"
                case "<con": "250 Ok"
                case "DATA": "354 go"
                case "QUIT": "221 bye"
                default: line.hasPrefix("RCPT TO:<a") ? "250 Ok" : line.hasPrefix("RCPT") ? "451 4.2.0 later" : "250 Ok"
                }
            })
        var session = try await SMTPDeliverySession.open(
            targets: [Self.target(mx)], domain: "example.test", origin: Self.origin(),
            context: try Self.context(), logger: Logger(label: "test"))
        #expect(session.capabilities == SMTPCapabilities())
        let results = try await session.transact(
            sender: "", recipients: ["a@example.test", "b@example.test"], body: ByteBuffer(string: "x\r\n"))
        #expect(results.map(\.kind) == [.delivered, .deferred])
        // One command at a time without PIPELINING; the null reverse-path for an empty sender.
        #expect(
            mx.received == [
                "EHLO relay.test", "HELO relay.test", "MAIL FROM:<>", "RCPT TO:<a@example.test>", "RCPT TO:<b@example.test>",
                "DATA", "<content>x",
            ])
        await session.quit()
        await mx.stop()
    }

    @Test func a421ClosesTheSessionAndDecidesTheRest() async throws {
        let mx = try await FakeMX(
            group: Self.group, greeting: "220 mx.test",
            respond: { line in
                switch line.prefix(4) {
                case "EHLO": "250 mx.test"
                case "MAIL": "250 Ok"
                default: "421 4.7.0 too many connections"
                }
            })
        var session = try await SMTPDeliverySession.open(
            targets: [Self.target(mx)], domain: "example.test", origin: Self.origin(),
            context: try Self.context(), logger: Logger(label: "test"))
        let results = try await session.transact(
            sender: "a@example.com", recipients: ["b@example.test", "c@example.test"], body: ByteBuffer(string: "x\r\n"))
        #expect(results.map(\.remoteReply?.code) == [421, 421])
        #expect(results.map(\.kind) == [.deferred, .deferred])
        #expect(!session.isUsable)
        await #expect(throws: SMTPSessionFailure.notReady) {
            _ = try await session.transact(sender: "a@example.com", recipients: ["d@example.test"], body: ByteBuffer(string: "x\r\n"))
        }
        await session.close()
        await mx.stop()
    }
}
