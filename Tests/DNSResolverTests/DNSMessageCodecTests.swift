import NIOCore
import Testing

@testable import DNSResolver

/// The wire codec against hand-built bytes (RFC 1035 §4.1).
@Suite struct DNSMessageCodecTests {
    /// `example.com` as labels.
    static let exampleCom: [UInt8] = [7] + Array("example".utf8) + [3] + Array("com".utf8) + [0]

    /// A response for `example.com MX` with two compressed MX answers and an additional A
    /// record whose owner name is a pointer into the first MX's RDATA:
    ///
    /// offset 12 question `example.com MX IN`; 29 `MX 10 mx1.<12>`; 49 `MX 20 mx2.<12>`;
    /// 69 `<43> A 192.0.2.1` (43 is the `mx1` label inside the first answer).
    static let mxResponse: [UInt8] =
        [0x12, 0x34, 0x81, 0x80, 0x00, 0x01, 0x00, 0x02, 0x00, 0x00, 0x00, 0x01]
        + exampleCom + [0x00, 0x0F, 0x00, 0x01]
        + [0xC0, 0x0C, 0x00, 0x0F, 0x00, 0x01, 0x00, 0x00, 0x0E, 0x10, 0x00, 0x08]
        + [0x00, 0x0A, 3] + Array("mx1".utf8) + [0xC0, 0x0C]
        + [0xC0, 0x0C, 0x00, 0x0F, 0x00, 0x01, 0x00, 0x00, 0x0E, 0x10, 0x00, 0x08]
        + [0x00, 0x14, 3] + Array("mx2".utf8) + [0xC0, 0x0C]
        + [0xC0, 0x2B, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x00, 0x3C, 0x00, 0x04, 192, 0, 2, 1]

    @Test func queryEncodesHeaderQuestionAndEDNS() throws {
        let query = DNSMessage.query(DNSQuestion(name: try DNSName("example.com"), type: .mx), id: 0x1234)
        let expected: [UInt8] =
            [0x12, 0x34, 0x01, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01]
            + Self.exampleCom + [0x00, 0x0F, 0x00, 0x01]
            + [0x00, 0x00, 0x29, 0x04, 0xD0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00]
        #expect(Array(query.encoded().readableBytesView) == expected)
    }

    @Test func queriesGetDifferentRandomIDs() throws {
        let question = DNSQuestion(name: try DNSName("example.com"), type: .a)
        let ids = Set((0..<32).map { _ in DNSMessage.query(question).header.id })
        #expect(ids.count > 1)
    }

    @Test func decodesCompressedResponse() throws {
        #expect(Self.mxResponse.count == 85)
        let message = try DNSMessage(decoding: ByteBuffer(bytes: Self.mxResponse))
        #expect(message.header.id == 0x1234)
        #expect(message.header.isResponse)
        #expect(message.header.recursionDesired)
        #expect(message.header.recursionAvailable)
        #expect(message.header.responseCode == .noError)
        #expect(message.questions == [DNSQuestion(name: try DNSName("example.com"), type: .mx)])
        #expect(
            message.answers == [
                DNSResourceRecord(
                    name: try DNSName("example.com"), ttl: 3600, data: .mx(preference: 10, exchange: try DNSName("mx1.example.com"))),
                DNSResourceRecord(
                    name: try DNSName("example.com"), ttl: 3600, data: .mx(preference: 20, exchange: try DNSName("mx2.example.com"))),
            ]
        )
        #expect(message.additionals == [DNSResourceRecord(name: try DNSName("mx1.example.com"), ttl: 60, data: .a([192, 0, 2, 1]))])
        #expect(message.ednsUDPPayloadSize == nil)
    }

    @Test func everyTruncationOfAResponseThrows() {
        for length in 0..<Self.mxResponse.count {
            #expect(throws: DNSError.self, "prefix of \(length) octets") {
                try DNSMessage(decoding: Array(Self.mxResponse[..<length]))
            }
        }
    }

    @Test func pointerToItselfThrows() {
        let bytes: [UInt8] = [0, 1, 0x81, 0x80, 0, 1, 0, 0, 0, 0, 0, 0, 0xC0, 0x0C, 0, 1, 0, 1]
        #expect(throws: DNSError.self) { try DNSMessage(decoding: bytes) }
    }

    @Test func pointerLoopThroughALabelThrows() {
        // offset 12: label "a", then at 14 a pointer back to 12: a.a.a.a… forever.
        let bytes: [UInt8] = [0, 1, 0x81, 0x80, 0, 1, 0, 0, 0, 0, 0, 0, 1, 0x61, 0xC0, 0x0C, 0, 1, 0, 1]
        let error = #expect(throws: DNSError.self) { try DNSMessage(decoding: bytes) }
        #expect(error?.code == .malformedResponse)
    }

    @Test func mutualPointersThrow() {
        // The answer's owner points to 30, where a pointer leads back to 28.
        let bytes: [UInt8] =
            [0, 1, 0x81, 0x80, 0, 0, 0, 1, 0, 0, 0, 0]
            + [0xC0, 0x1E, 0, 1, 0, 1, 0, 0, 0, 0, 0, 4, 127, 0, 0, 1]
            + [0x01, 0x62, 0xC0, 0x1C]
        #expect(throws: DNSError.self) { try DNSMessage(decoding: bytes) }
    }

    @Test func forwardPointerThrows() {
        let bytes: [UInt8] = [0, 1, 0x81, 0x80, 0, 1, 0, 0, 0, 0, 0, 0, 0xC0, 0x12, 0, 1, 0, 1, 1, 0x61, 0]
        #expect(throws: DNSError.self) { try DNSMessage(decoding: bytes) }
    }

    @Test func nameLongerThan255OctetsThrows() {
        // 5 labels of 63 octets: 5 × 64 + 1 = 321 octets.
        var name: [UInt8] = []
        for _ in 0..<5 { name += [63] + [UInt8](repeating: 0x61, count: 63) }
        let bytes: [UInt8] = [0, 1, 0x81, 0x80, 0, 1, 0, 0, 0, 0, 0, 0] + name + [0, 0, 1, 0, 1]
        #expect(throws: DNSError.self) { try DNSMessage(decoding: bytes) }
    }

    @Test func extendedLabelTypeThrows() {
        let bytes: [UInt8] = [0, 1, 0x81, 0x80, 0, 1, 0, 0, 0, 0, 0, 0, 0x41, 0x61, 0, 0, 1, 0, 1]
        #expect(throws: DNSError.self) { try DNSMessage(decoding: bytes) }
    }

    @Test(arguments: [
        // A with 5 octets of RDATA.
        [0xC0, 0x0C, 0, 1, 0, 1, 0, 0, 0, 0, 0, 5, 1, 2, 3, 4, 5] as [UInt8],
        // AAAA with 4 octets.
        [0xC0, 0x0C, 0, 28, 0, 1, 0, 0, 0, 0, 0, 4, 1, 2, 3, 4],
        // MX whose exchange runs past its RDLENGTH of 4.
        [0xC0, 0x0C, 0, 15, 0, 1, 0, 0, 0, 0, 0, 4, 0, 10, 1, 0x61, 0],
        // MX with RDATA longer than its contents.
        [0xC0, 0x0C, 0, 15, 0, 1, 0, 0, 0, 0, 0, 6, 0, 10, 0xC0, 0x0C, 0, 0],
        // TXT string overrunning the RDATA.
        [0xC0, 0x0C, 0, 16, 0, 1, 0, 0, 0, 0, 0, 2, 5, 0x61],
        // RDLENGTH past the end of the message.
        [0xC0, 0x0C, 0, 99, 0, 1, 0, 0, 0, 0, 0, 40, 0],
    ])
    func badRecordDataThrows(record: [UInt8]) {
        let bytes: [UInt8] =
            [0, 1, 0x81, 0x80, 0, 1, 0, 1, 0, 0, 0, 0] + Self.exampleCom + [0, 1, 0, 1] + record
        let error = #expect(throws: DNSError.self) { try DNSMessage(decoding: bytes) }
        #expect(error?.code == .malformedResponse)
        #expect(error?.isPermanent == false)
    }

    @Test func unknownTypesAreSkippedAndOPTIsRead() throws {
        let bytes: [UInt8] =
            [0, 7, 0x81, 0x80, 0, 1, 0, 2, 0, 0, 0, 1] + Self.exampleCom + [0, 1, 0, 1]
            // TYPE99 with 3 octets of opaque data, then an A record.
            + [0xC0, 0x0C, 0, 99, 0, 1, 0, 0, 0, 0, 0, 3, 9, 9, 9]
            + [0xC0, 0x0C, 0, 1, 0, 1, 0, 0, 0, 5, 0, 4, 10, 0, 0, 1]
            // OPT with payload size 4096.
            + [0, 0, 41, 0x10, 0x00, 0, 0, 0, 0, 0, 0]
        let message = try DNSMessage(decoding: bytes)
        #expect(message.answers == [DNSResourceRecord(name: try DNSName("example.com"), ttl: 5, data: .a([10, 0, 0, 1]))])
        #expect(message.additionals.isEmpty)
        #expect(message.ednsUDPPayloadSize == 4096)
    }

    @Test func decodesTXTAndSOA() throws {
        let bytes: [UInt8] =
            [0, 9, 0x81, 0x83, 0, 1, 0, 1, 0, 1, 0, 0] + Self.exampleCom + [0, 16, 0, 1]
            + [0xC0, 0x0C, 0, 16, 0, 1, 0, 0, 0, 1, 0, 7, 2, 0x68, 0x69, 0, 2, 0x6F, 0x6B]
            + [0xC0, 0x0C, 0, 6, 0, 1, 0, 0, 0x0E, 0x10, 0, 27]
            + [2, 0x6E, 0x73, 0xC0, 0x0C, 0xC0, 0x0C]
            + [0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 4, 0, 0, 0, 60]
        let message = try DNSMessage(decoding: bytes)
        #expect(message.header.responseCode == .nameError)
        #expect(message.answers.map(\.data) == [.txt([[0x68, 0x69], [], [0x6F, 0x6B]])])
        let soa = DNSSOAData(
            primaryServer: try DNSName("ns.example.com"),
            responsibleMailbox: try DNSName("example.com"),
            serial: 1, refresh: 2, retry: 3, expire: 4, minimum: 60
        )
        #expect(message.authorities == [DNSResourceRecord(name: try DNSName("example.com"), ttl: 3600, data: .soa(soa))])
    }

    /// Two PTR answers (RFC 1035 §3.3.12) for the question `10.2.0.192.in-addr.arpa PTR`
    /// at offset 12: both owners point to the question; the first PTRDNAME
    /// `mail.example.com` is spelled out (its `example` label lands at offset 58), the
    /// second is `smt` followed by a pointer to 58.
    @Test func decodesCompressedPTR() throws {
        let reverse: [UInt8] =
            [2] + Array("10".utf8) + [1] + Array("2".utf8) + [1] + Array("0".utf8) + [3] + Array("192".utf8)
            + [7] + Array("in-addr".utf8) + [4] + Array("arpa".utf8) + [0]
        let target: [UInt8] = [4] + Array("mail".utf8) + Self.exampleCom
        let bytes: [UInt8] =
            [0, 5, 0x81, 0x80, 0, 1, 0, 2, 0, 0, 0, 0] + reverse + [0, 12, 0, 1]
            + [0xC0, 0x0C, 0, 12, 0, 1, 0, 0, 0x0E, 0x10, 0, UInt8(target.count)] + target
            + [0xC0, 0x0C, 0, 12, 0, 1, 0, 0, 0x0E, 0x10, 0, 6, 3] + Array("smt".utf8) + [0xC0, 58]
        #expect(reverse.count == 25)
        let message = try DNSMessage(decoding: bytes)
        let owner = try DNSName("10.2.0.192.in-addr.arpa")
        #expect(message.questions == [DNSQuestion(name: owner, type: .ptr)])
        #expect(
            message.answers == [
                DNSResourceRecord(name: owner, ttl: 3600, data: .ptr(try DNSName("mail.example.com"))),
                DNSResourceRecord(name: owner, ttl: 3600, data: .ptr(try DNSName("smt.example.com"))),
            ])
        #expect(message.answers.first?.type == .ptr)
        #expect(DNSRecordType.ptr.description == "PTR")
    }

    /// RFC 1035 §3.5 (IPv4) and the example of RFC 3596 §2.5 (IPv6, 4321:0:1:2:3:4:567:89ab).
    @Test func reverseNames() throws {
        #expect(DNSName(reverseOf: [192, 0, 2, 10])?.description == "10.2.0.192.in-addr.arpa")
        let v6 = try #require(DNSResolver.addressBytes("4321:0:1:2:3:4:567:89ab"))
        #expect(DNSName(reverseOf: v6)?.description == "b.a.9.8.7.6.5.0.4.0.0.0.3.0.0.0.2.0.0.0.1.0.0.0.0.0.0.0.1.2.3.4.ip6.arpa")
        #expect(DNSName(reverseOf: [1, 2, 3]) == nil)
        #expect(DNSResolver.addressBytes("192.0.2.1") == [192, 0, 2, 1])
        #expect(DNSResolver.addressBytes("mail.example.com") == nil)
    }

    /// RFC 7208 §3.3 and RFC 6376 §3.6.2.2: the strings of one TXT record are joined with
    /// nothing between them.
    @Test func txtStringsAreJoinedWithoutSeparator() {
        #expect(DNSResolver.joinedText([Array("v=spf1 ip4:192.0.2.0/24".utf8), Array(" -all".utf8)]) == "v=spf1 ip4:192.0.2.0/24 -all")
        #expect(DNSResolver.joinedText([Array("p=MIIB".utf8), Array("IjAN".utf8), []]) == "p=MIIBIjAN")
        #expect(DNSResolver.joinedText([]) == "")
    }

    static let roundTripRecords: [DNSRecordData] = [
        .a([192, 0, 2, 7]),
        .aaaa([0x20, 0x01, 0x0D, 0xB8] + [UInt8](repeating: 0, count: 11) + [1]),
        .mx(preference: 5, exchange: try! DNSName("mx.example.org")),
        .mx(preference: 0, exchange: .root),
        .cname(try! DNSName("target.example.net")),
        .soa(
            DNSSOAData(
                primaryServer: try! DNSName("a.ns"), responsibleMailbox: try! DNSName("h.m"), serial: 7, refresh: 8, retry: 9, expire: 10,
                minimum: 11)),
        .txt([Array("v=spf1 -all".utf8), []]),
        .ptr(try! DNSName("mail.example.com")),
    ]

    @Test(arguments: roundTripRecords)
    func encodeThenDecodeIsIdentity(data: DNSRecordData) throws {
        let message = DNSMessage(
            header: DNSHeader(
                id: 0xBEEF, isResponse: true, isAuthoritative: true, isTruncated: true, recursionDesired: false, recursionAvailable: true,
                reservedBits: 2, responseCode: .refused),
            questions: [DNSQuestion(name: try DNSName("Host.Example.org"), type: data.type)],
            answers: [DNSResourceRecord(name: try DNSName("host.example.org"), ttl: 42, data: data)],
            authorities: [DNSResourceRecord(name: try DNSName("example.org"), ttl: 1, data: data)],
            additionals: [DNSResourceRecord(name: try DNSName("x.example.org"), ttl: 0, data: data)],
            ednsUDPPayloadSize: 1232
        )
        let decoded = try DNSMessage(decoding: message.encoded())
        #expect(decoded == message)
    }

    @Test func responseMatchingIsCaseInsensitiveAndChecksIDAndQuestion() throws {
        let query = DNSMessage.query(DNSQuestion(name: try DNSName("mail.example.com"), type: .a), id: 77)
        var reply = query
        reply.header.isResponse = true
        reply.questions = [DNSQuestion(name: try DNSName("MAIL.Example.COM"), type: .a)]
        #expect(reply.isResponse(to: query))

        var otherID = reply
        otherID.header.id = 78
        #expect(!otherID.isResponse(to: query))

        var otherType = reply
        otherType.questions[0].type = .aaaa
        #expect(!otherType.isResponse(to: query))

        var otherName = reply
        otherName.questions[0].name = try DNSName("mail.example.net")
        #expect(!otherName.isResponse(to: query))

        var notResponse = reply
        notResponse.header.isResponse = false
        #expect(!notResponse.isResponse(to: query))
    }
}
