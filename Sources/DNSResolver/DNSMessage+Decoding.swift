import NIOCore

extension DNSMessage {
    /// Parses a message in wire format (RFC 1035 §4.1). Compression pointers are
    /// followed (backwards only); records of types other than A, AAAA, MX, CNAME, SOA, TXT
    /// PTR and TLSA are skipped; an OPT pseudo-record sets ``ednsUDPPayloadSize``.
    ///
    /// - Throws: ``DNSError`` with code ``DNSError/Code/malformedResponse`` when the
    ///   message is truncated, a pointer or length is out of range, or an RDATA does not
    ///   match its type's layout.
    public init(decoding buffer: ByteBuffer) throws {
        try self.init(decoding: Array(buffer.readableBytesView))
    }

    /// Parses a message in wire format; see ``init(decoding:)-(ByteBuffer)``.
    public init(decoding bytes: [UInt8]) throws {
        var reader = DNSWireReader(bytes)
        let id = try reader.readUInt16()
        let flags = try reader.readUInt16()
        let questionCount = try reader.readUInt16()
        let answerCount = try reader.readUInt16()
        let authorityCount = try reader.readUInt16()
        let additionalCount = try reader.readUInt16()
        self.init(header: DNSHeader(id: id, flags: flags))
        for _ in 0..<questionCount {
            let name = try reader.readName()
            let type = DNSRecordType(rawValue: try reader.readUInt16())
            let dnsClass = try reader.readUInt16()
            self.questions.append(DNSQuestion(name: name, type: type, dnsClass: dnsClass))
        }
        for _ in 0..<answerCount {
            if let record = try Self.readRecord(&reader, edns: &self.ednsUDPPayloadSize, dnssecOK: &self.dnssecOK) {
                self.answers.append(record)
            }
        }
        for _ in 0..<authorityCount {
            if let record = try Self.readRecord(&reader, edns: &self.ednsUDPPayloadSize, dnssecOK: &self.dnssecOK) {
                self.authorities.append(record)
            }
        }
        for _ in 0..<additionalCount {
            if let record = try Self.readRecord(&reader, edns: &self.ednsUDPPayloadSize, dnssecOK: &self.dnssecOK) {
                self.additionals.append(record)
            }
        }
    }

    /// Reads one resource record (RFC 1035 §4.1.3); `nil` for a skipped type.
    private static func readRecord(_ reader: inout DNSWireReader, edns: inout UInt16?, dnssecOK: inout Bool) throws -> DNSResourceRecord? {
        let name = try reader.readName()
        let type = DNSRecordType(rawValue: try reader.readUInt16())
        let dnsClass = try reader.readUInt16()
        let ttl = try reader.readUInt32()
        let length = Int(try reader.readUInt16())
        guard reader.remaining >= length else { throw DNSWireReader.truncated("RDATA of \(name) \(type)") }
        let end = reader.position + length
        let data: DNSRecordData?
        switch type {
        case .a:
            guard length == 4 else { throw DNSError.malformed("A record of \(name) has \(length) octets") }
            data = .a(try reader.readBytes(4))
        case .aaaa:
            guard length == 16 else { throw DNSError.malformed("AAAA record of \(name) has \(length) octets") }
            data = .aaaa(try reader.readBytes(16))
        case .mx:
            let preference = try reader.readUInt16()
            data = .mx(preference: preference, exchange: try reader.readName())
        case .cname:
            data = .cname(try reader.readName())
        case .ptr:
            data = .ptr(try reader.readName())
        case .soa:
            let primary = try reader.readName()
            let mailbox = try reader.readName()
            data = .soa(
                DNSSOAData(
                    primaryServer: primary,
                    responsibleMailbox: mailbox,
                    serial: try reader.readUInt32(),
                    refresh: try reader.readUInt32(),
                    retry: try reader.readUInt32(),
                    expire: try reader.readUInt32(),
                    minimum: try reader.readUInt32()
                )
            )
        case .txt:
            var strings: [[UInt8]] = []
            while reader.position < end {
                let count = Int(try reader.readUInt8())
                guard reader.position + count <= end else {
                    throw DNSError.malformed("TXT string of \(name) overruns its RDATA")
                }
                strings.append(try reader.readBytes(count))
            }
            data = .txt(strings)
        case .tlsa:
            guard length >= 3 else { throw DNSError.malformed("TLSA record of \(name) has \(length) octets") }
            let usage = try reader.readUInt8()
            let selector = try reader.readUInt8()
            let matchingType = try reader.readUInt8()
            data = .tlsa(TLSARecord(usage: usage, selector: selector, matchingType: matchingType, data: try reader.readBytes(length - 3)))
        case .opt:
            edns = dnsClass
            dnssecOK = ttl & 0x0000_8000 != 0
            data = nil
        default:
            data = nil
        }
        if data != nil, reader.position != end {
            throw DNSError.malformed("\(type) record of \(name) does not fill its RDATA of \(length) octets")
        }
        reader.position = end
        return data.map { DNSResourceRecord(name: name, dnsClass: dnsClass, ttl: ttl, data: $0) }
    }
}
