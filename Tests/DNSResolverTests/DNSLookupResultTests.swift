import Testing

@testable import DNSResolver

/// Interpreting a matched response: CNAME chains, NODATA, NXDOMAIN, negative TTLs.
@Suite struct DNSLookupResultTests {
    static func response(
        _ code: DNSResponseCode = .noError,
        answers: [DNSResourceRecord] = [],
        authorities: [DNSResourceRecord] = []
    ) -> DNSMessage {
        DNSMessage(header: DNSHeader(id: 1, isResponse: true, responseCode: code), answers: answers, authorities: authorities)
    }

    static func soa(ttl: UInt32, minimum: UInt32) throws -> DNSResourceRecord {
        DNSResourceRecord(
            name: try DNSName("example.com"),
            ttl: ttl,
            data: .soa(
                DNSSOAData(
                    primaryServer: try DNSName("ns.example.com"), responsibleMailbox: try DNSName("h.example.com"), serial: 1, refresh: 1,
                    retry: 1, expire: 1, minimum: minimum))
        )
    }

    @Test func followsACNAMEChainWithinTheResponse() throws {
        let question = DNSQuestion(name: try DNSName("www.example.com"), type: .a)
        let target = DNSResourceRecord(name: try DNSName("Edge.CDN.net"), ttl: 300, data: .a([192, 0, 2, 9]))
        let response = Self.response(answers: [
            DNSResourceRecord(name: try DNSName("lb.example.com"), ttl: 30, data: .cname(try DNSName("edge.cdn.net"))),
            // An unrelated A record for another name must not be taken.
            DNSResourceRecord(name: try DNSName("other.example.com"), ttl: 300, data: .a([10, 0, 0, 1])),
            DNSResourceRecord(name: try DNSName("WWW.example.com"), ttl: 600, data: .cname(try DNSName("lb.example.com"))),
            target,
        ])
        #expect(try DNSLookupResult(response: response, question: question) == .records([target], ttl: 30))
    }

    @Test func cnameLoopThrows() throws {
        let question = DNSQuestion(name: try DNSName("a.example"), type: .a)
        let response = Self.response(answers: [
            DNSResourceRecord(name: try DNSName("a.example"), ttl: 1, data: .cname(try DNSName("b.example"))),
            DNSResourceRecord(name: try DNSName("b.example"), ttl: 1, data: .cname(try DNSName("a.example"))),
        ])
        let error = #expect(throws: DNSError.self) { try DNSLookupResult(response: response, question: question) }
        #expect(error?.code == .malformedResponse)
    }

    @Test func cnameToNothingIsNoData() throws {
        let question = DNSQuestion(name: try DNSName("a.example"), type: .mx)
        let response = Self.response(answers: [
            DNSResourceRecord(name: try DNSName("a.example"), ttl: 1, data: .cname(try DNSName("b.example")))
        ])
        #expect(try DNSLookupResult(response: response, question: question) == .noData(negativeTTL: nil))
    }

    @Test func nxdomainCarriesTheRFC2308NegativeTTL() throws {
        let question = DNSQuestion(name: try DNSName("nope.example.com"), type: .mx)
        let withSOA = Self.response(.nameError, authorities: [try Self.soa(ttl: 900, minimum: 60)])
        #expect(try DNSLookupResult(response: withSOA, question: question) == .nameError(negativeTTL: 60))
        let smallTTL = Self.response(.nameError, authorities: [try Self.soa(ttl: 20, minimum: 60)])
        #expect(try DNSLookupResult(response: smallTTL, question: question) == .nameError(negativeTTL: 20))
        #expect(try DNSLookupResult(response: Self.response(.nameError), question: question) == .nameError(negativeTTL: nil))
    }

    @Test func noErrorWithoutRecordsIsNoData() throws {
        let question = DNSQuestion(name: try DNSName("example.com"), type: .aaaa)
        let response = Self.response(authorities: [try Self.soa(ttl: 300, minimum: 120)])
        #expect(try DNSLookupResult(response: response, question: question) == .noData(negativeTTL: 120))
    }

    @Test(arguments: [DNSResponseCode.serverFailure, .refused, .formatError, .notImplemented])
    func failureCodesAreTemporaryServerFailures(code: DNSResponseCode) throws {
        let question = DNSQuestion(name: try DNSName("example.com"), type: .a)
        let response = Self.response(code, answers: [DNSResourceRecord(name: question.name, ttl: 1, data: .a([1, 2, 3, 4]))])
        let error = #expect(throws: DNSError.self) { try DNSLookupResult(response: response, question: question) }
        #expect(error?.code == .serverFailure)
        #expect(error?.isPermanent == false)
    }
}
