import NIOCore
import Testing

@testable import DNSResolver

/// What DANE needs from the codec: the DO and AD bits (RFC 3225, RFC 4035 §3.2.3, RFC 6840
/// §5.7) and TLSA records (RFC 6698 §2.1).
@Suite struct DNSSECCodecTests {
    static let name: [UInt8] = [3] + Array("_25".utf8) + [4] + Array("_tcp".utf8) + [2] + Array("mx".utf8) + [4] + Array("test".utf8) + [0]

    @Test func dnssecQuerySetsADInTheHeaderAndDOInTheOPTRecord() throws {
        let query = DNSMessage.query(DNSQuestion(name: try DNSName("_25._tcp.mx.test"), type: .tlsa), id: 0x0102, dnssec: true)
        let bytes = Array(query.encoded().readableBytesView)
        // Flags: RD (0x0100) and AD (0x0020).
        #expect(bytes[2...3] == [0x01, 0x20])
        // OPT: root, TYPE 41, CLASS 1232, TTL with DO (0x00008000), RDLEN 0.
        #expect(Array(bytes.suffix(11)) == [0x00, 0x00, 0x29, 0x04, 0xD0, 0x00, 0x00, 0x80, 0x00, 0x00, 0x00])
        let decoded = try DNSMessage(decoding: bytes)
        #expect(decoded.dnssecOK && decoded.header.isAuthenticData)
        #expect(decoded.questions.first?.type == .tlsa)
    }

    @Test func plainQueryHasNeitherBit() throws {
        let query = DNSMessage.query(DNSQuestion(name: try DNSName("mx.test"), type: .a), id: 1)
        let decoded = try DNSMessage(decoding: query.encoded())
        #expect(!decoded.dnssecOK && !decoded.header.isAuthenticData)
    }

    @Test func tlsaAnswerWithADDecodesAndRoundTrips() throws {
        let hash = [UInt8](repeating: 0xAB, count: 32)
        let response: [UInt8] =
            [0x00, 0x07, 0x81, 0xA0, 0x00, 0x01, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00]  // QR RD RA AD
            + Self.name + [0x00, 0x34, 0x00, 0x01]
            + [0xC0, 0x0C, 0x00, 0x34, 0x00, 0x01, 0x00, 0x00, 0x01, 0x2C, 0x00, 35, 3, 1, 1] + hash
            // An RRSIG (type 46) is skipped, not an error.
            + [0xC0, 0x0C, 0x00, 0x2E, 0x00, 0x01, 0x00, 0x00, 0x01, 0x2C, 0x00, 0x02, 0xFF, 0xFF]
        let message = try DNSMessage(decoding: response)
        #expect(message.header.isAuthenticData)
        let record = TLSARecord(usage: 3, selector: 1, matchingType: 1, data: hash)
        #expect(message.answers.map(\.data) == [.tlsa(record)])
        #expect(record.description == "3 1 1 " + String(repeating: "ab", count: 32))
        // Encoding the decoded message and decoding it again gives the same records.
        #expect(try DNSMessage(decoding: message.encoded()).answers == message.answers)
        let result = try DNSLookupResult(response: message, question: message.questions[0])
        #expect(result == .records(message.answers, ttl: 300))
    }

    @Test func tlsaShorterThanItsFixedFieldsIsMalformed() {
        let response: [UInt8] =
            [0x00, 0x07, 0x81, 0x80, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00]
            + Self.name + [0x00, 0x34, 0x00, 0x01]
            + [0xC0, 0x0C, 0x00, 0x34, 0x00, 0x01, 0x00, 0x00, 0x01, 0x2C, 0x00, 0x02, 3, 1]
        #expect(throws: DNSError.self) { try DNSMessage(decoding: response) }
    }

    @Test func theCacheKeepsTheADBit() throws {
        var cache = DNSCache(capacity: 4)
        let question = DNSQuestion(name: try DNSName("_25._tcp.mx.test"), type: .tlsa)
        cache.insert(.noData(negativeTTL: 60), for: question, now: .uptimeNanoseconds(0), authenticated: true)
        #expect(cache.answer(question, now: .uptimeNanoseconds(1))?.isAuthenticated == true)
    }
}
