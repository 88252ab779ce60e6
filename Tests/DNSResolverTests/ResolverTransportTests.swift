import NIOCore
import Testing

@testable import DNSResolver

/// Failure handling against scripted servers: silence, spoofing, truncation, SERVFAIL,
/// garbage, shutdown.
@Suite struct ResolverTransportTests {
    static func a(_ query: DNSMessage, _ bytes: [UInt8], ttl: UInt32 = 60) -> DNSResourceRecord {
        DNSResourceRecord(name: FakeDNSServer.name(query), ttl: ttl, data: .a(bytes))
    }

    @Test func silentServerTimesOutTemporarilyAfterEveryAttempt() async throws {
        let server = try await FakeDNSServer.start(udp: { _ in [] })
        let resolver = TestSupport.resolver(try TestSupport.configuration(port: server.port, timeout: .milliseconds(200), attempts: 2))
        let error = await TestSupport.dnsError { try await resolver.mx("quiet.test") }
        #expect(error?.code == .timeout)
        #expect(error?.isPermanent == false)
        let queries = try await server.queries()
        #expect(queries.count == 2)
        // Every attempt is a fresh query with its own id.
        #expect(Set(queries.map(\.message.header.id)).count == 2)
        #expect(queries.allSatisfy { $0.message.header.recursionDesired && $0.message.ednsUDPPayloadSize == 1232 })
        let failure = await TestSupport.dnsError { try await resolver.mailExchangers(for: "quiet.test") }
        #expect(failure?.code == .timeout)
        #expect(failure?.isPermanent == false)
        await server.stop()
    }

    @Test func repliesWithTheWrongIDOrQuestionAreIgnored() async throws {
        let server = try await FakeDNSServer.start(udp: { query in
            var wrongID = query
            wrongID.header.id &+= 1
            var wrongQuestion = query
            wrongQuestion.questions[0].name = try! DNSName("evil.test")
            return [
                FakeDNSServer.reply(to: wrongID, answers: [Self.a(query, [6, 6, 6, 6])]),
                FakeDNSServer.reply(
                    to: wrongQuestion, answers: [DNSResourceRecord(name: try! DNSName("evil.test"), ttl: 60, data: .a([6, 6, 6, 7]))]),
                ByteBuffer(bytes: [0xFF]),
                FakeDNSServer.reply(to: query, answers: [Self.a(query, [192, 0, 2, 1])]),
            ]
        })
        let resolver = TestSupport.resolver(try TestSupport.configuration(port: server.port))
        let result = try await resolver.lookup(DNSQuestion(name: try DNSName("spoof.test"), type: .a))
        guard case .records(let records, _) = result else {
            Issue.record("expected records, got \(result)")
            return
        }
        #expect(records.map(\.data) == [.a([192, 0, 2, 1])])
        await server.stop()
    }

    /// A truncated reply is either a well-formed partial message or one cut mid-record.
    @Test(arguments: [false, true])
    func truncatedUDPReplyIsRetriedOverTCP(cutMidRecord: Bool) async throws {
        let server = try await FakeDNSServer.start(
            udp: { query in
                var reply = FakeDNSServer.reply(to: query, answers: [Self.a(query, [10, 9, 9, 9])], truncated: true)
                if cutMidRecord { reply.moveWriterIndex(to: reply.writerIndex - 3) }
                return [reply]
            },
            tcp: { query in
                [FakeDNSServer.reply(to: query, answers: (1...100).map { Self.a(query, [10, 0, 0, UInt8($0)]) })]
            }
        )
        let resolver = TestSupport.resolver(try TestSupport.configuration(port: server.port))
        let addresses = try await resolver.addresses(of: try DNSName("big.test"), port: 25)
        // 100 A records from TCP; the AAAA query is answered over TCP with A records only,
        // which do not match its question type, so it is NODATA.
        #expect(addresses.count == 100)
        #expect(addresses.first == (try SocketAddress(ipAddress: "10.0.0.1", port: 25)))
        let transports = try await server.queries().map(\.transport)
        #expect(transports.filter { $0 == .udp }.count == 2)
        #expect(transports.filter { $0 == .tcp }.count == 2)
        await server.stop()
    }

    @Test func formatErrorToEDNSIsRetriedWithoutIt() async throws {
        let server = try await FakeDNSServer.start(udp: { query in
            query.ednsUDPPayloadSize == nil
                ? [FakeDNSServer.reply(to: query, answers: [Self.a(query, [192, 0, 2, 44])])]
                : [FakeDNSServer.reply(to: query, code: .formatError)]
        })
        let resolver = TestSupport.resolver(try TestSupport.configuration(port: server.port))
        let result = try await resolver.lookup(DNSQuestion(name: try DNSName("old.test"), type: .a))
        #expect(result == .records([DNSResourceRecord(name: try DNSName("old.test"), ttl: 60, data: .a([192, 0, 2, 44]))], ttl: 60))
        #expect(try await server.queries().map { $0.message.ednsUDPPayloadSize } == [1232, nil])
        await server.stop()
    }

    @Test func serverFailureMovesOnToTheNextServer() async throws {
        let failing = try await FakeDNSServer.start(udp: { query in [FakeDNSServer.reply(to: query, code: .serverFailure)] })
        let working = try await FakeDNSServer.start(udp: { query in
            [
                FakeDNSServer.reply(
                    to: query,
                    answers: [
                        DNSResourceRecord(
                            name: FakeDNSServer.name(query), ttl: 60, data: .mx(preference: 7, exchange: try! DNSName("mx.ok.test")))
                    ])
            ]
        })
        var configuration = try TestSupport.configuration(port: failing.port, attempts: 3)
        configuration.servers.append(working.address)
        let resolver = TestSupport.resolver(configuration)
        #expect(try await resolver.mx("ok.test") == [MXRecord(preference: 7, exchange: "mx.ok.test")])
        // SERVFAIL is not retried on the same server.
        #expect(try await failing.queries().count == 1)
        #expect(try await working.queries().count == 1)
        await failing.stop()
        await working.stop()
    }

    @Test func serverFailureFromEveryServerIsTemporary() async throws {
        let refusing = try await FakeDNSServer.start(udp: { query in [FakeDNSServer.reply(to: query, code: .refused)] })
        let resolver = TestSupport.resolver(try TestSupport.configuration(port: refusing.port))
        let error = await TestSupport.dnsError { try await resolver.mailExchangers(for: "refused.test") }
        #expect(error?.code == .serverFailure)
        #expect(error?.isPermanent == false)
        await refusing.stop()
    }

    @Test func garbageWithTheRightIDIsMalformedAndTemporary() async throws {
        let server = try await FakeDNSServer.start(udp: { query in
            var bytes = FakeDNSServer.reply(to: query, answers: [Self.a(query, [1, 2, 3, 4])])
            bytes.moveWriterIndex(to: bytes.writerIndex - 2)
            return [bytes]
        })
        let resolver = TestSupport.resolver(try TestSupport.configuration(port: server.port, attempts: 2))
        let error = await TestSupport.dnsError { try await resolver.lookup(DNSQuestion(name: try DNSName("garbage.test"), type: .a)) }
        #expect(error?.code == .malformedResponse)
        #expect(error?.isPermanent == false)
        #expect(try await server.queries().count == 2)
        await server.stop()
    }

    @Test func shutdownEndsQueriesInFlightAndRefusesNewOnes() async throws {
        let server = try await FakeDNSServer.start(udp: { _ in [] })
        let resolver = TestSupport.resolver(try TestSupport.configuration(port: server.port, timeout: .seconds(600)))
        async let pending = TestSupport.dnsError { try await resolver.mx("pending.test") }
        while try await server.queries().isEmpty {
            await Task.yield()
        }
        await resolver.shutdown()
        #expect(await pending?.code == .shutDown)
        let later = await TestSupport.dnsError { try await resolver.mx("later.test") }
        #expect(later?.code == .shutDown)
        #expect(try await server.queries().count == 1)
        await server.stop()
    }

    @Test func invalidNamesFailBeforeAnyQuery() async throws {
        let server = try await FakeDNSServer.start(udp: { _ in [] })
        let resolver = TestSupport.resolver(try TestSupport.configuration(port: server.port))
        let long = String(repeating: "x", count: 64) + ".test"
        let error = await TestSupport.dnsError { try await resolver.mailExchangers(for: long) }
        #expect(error?.code == .invalidName)
        #expect(error?.isPermanent == true)
        let idn = await TestSupport.dnsError { try await resolver.addresses("bücher.test") }
        #expect(idn?.code == .invalidName)
        #expect(try await server.queries().isEmpty)
        await server.stop()
    }
}
