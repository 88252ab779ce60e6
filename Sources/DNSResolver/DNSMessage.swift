/// A DNS message (RFC 1035 §4.1): header, question, answer, authority and additional
/// sections, plus the EDNS(0) UDP payload size from an OPT pseudo-record (RFC 6891 §6).
///
/// The codec is pure: ``encode(into:)`` writes wire format, ``init(decoding:)-(ByteBuffer)``
/// parses it and throws ``DNSError/Code/malformedResponse`` on anything it cannot trust.
///
/// A query for the MX of `example.com`, id `0x1234`, with RD and EDNS(0):
/// ```
/// C: 12 34 01 00 00 01 00 00 00 00 00 01            header: RD, QDCOUNT 1, ARCOUNT 1
/// C: 07 'example' 03 'com' 00 00 0f 00 01            question: example.com MX IN
/// C: 00 00 29 04 d0 00 00 00 00 00 00                OPT: root, type 41, size 1232
/// ```
public struct DNSMessage: Sendable, Hashable {
    /// The UDP payload size advertised in queries: the value the DNS Flag Day 2020
    /// operators agreed on to avoid IP fragmentation.
    public static let defaultEDNSUDPPayloadSize: UInt16 = 1232

    public var header: DNSHeader
    public var questions: [DNSQuestion]
    public var answers: [DNSResourceRecord]
    public var authorities: [DNSResourceRecord]
    /// Additional records of known types; the OPT pseudo-record is not listed here but in
    /// ``ednsUDPPayloadSize``.
    public var additionals: [DNSResourceRecord]
    /// The UDP payload size of the OPT pseudo-record, `nil` when the message has none.
    public var ednsUDPPayloadSize: UInt16?
    /// The DO ("DNSSEC OK") bit of the OPT pseudo-record (RFC 3225 §3): the asker wants
    /// DNSSEC records and validation. Sent only with an OPT record.
    public var dnssecOK: Bool = false

    public init(
        header: DNSHeader,
        questions: [DNSQuestion] = [],
        answers: [DNSResourceRecord] = [],
        authorities: [DNSResourceRecord] = [],
        additionals: [DNSResourceRecord] = [],
        ednsUDPPayloadSize: UInt16? = nil
    ) {
        self.header = header
        self.questions = questions
        self.answers = answers
        self.authorities = authorities
        self.additionals = additionals
        self.ednsUDPPayloadSize = ednsUDPPayloadSize
    }

    /// A recursive query (RD set) for one question with a random 16-bit id and EDNS(0).
    /// With `dnssec`, the DO bit and the AD bit are set (RFC 3225, RFC 6840 §5.7), so a
    /// validating resolver says in its AD bit whether the answer is authenticated.
    public static func query(
        _ question: DNSQuestion,
        id: UInt16 = UInt16.random(in: .min ... .max),
        ednsUDPPayloadSize: UInt16? = DNSMessage.defaultEDNSUDPPayloadSize,
        dnssec: Bool = false
    ) -> DNSMessage {
        var header = DNSHeader(id: id, recursionDesired: true)
        header.isAuthenticData = dnssec
        var message = DNSMessage(header: header, questions: [question], ednsUDPPayloadSize: ednsUDPPayloadSize)
        message.dnssecOK = dnssec && ednsUDPPayloadSize != nil
        return message
    }

    /// Whether this message is a response to `query`: QR set, the same id, and the same
    /// single question (name compared case-insensitively). Anything else is ignored by the
    /// resolver, as a guard against spoofed or stale datagrams (RFC 5452 §3).
    public func isResponse(to query: DNSMessage) -> Bool {
        self.header.isResponse && self.header.id == query.header.id && self.questions == query.questions
    }
}
