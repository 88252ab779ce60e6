import NIOCore

extension DNSMessage {
    /// Writes the message in wire format (RFC 1035 §4.1), without name compression.
    /// An OPT pseudo-record (RFC 6891 §6.1.2) is appended when ``ednsUDPPayloadSize`` is
    /// set.
    public func encode(into buffer: inout ByteBuffer) {
        buffer.writeInteger(self.header.id)
        buffer.writeInteger(self.header.flags)
        buffer.writeInteger(UInt16(truncatingIfNeeded: self.questions.count))
        buffer.writeInteger(UInt16(truncatingIfNeeded: self.answers.count))
        buffer.writeInteger(UInt16(truncatingIfNeeded: self.authorities.count))
        let optCount = self.ednsUDPPayloadSize == nil ? 0 : 1
        buffer.writeInteger(UInt16(truncatingIfNeeded: self.additionals.count + optCount))
        for question in self.questions {
            question.name.write(to: &buffer)
            buffer.writeInteger(question.type.rawValue)
            buffer.writeInteger(question.dnsClass)
        }
        for record in self.answers + self.authorities + self.additionals {
            record.write(to: &buffer)
        }
        if let size = self.ednsUDPPayloadSize {
            // NAME root, TYPE OPT, CLASS = payload size, TTL = ext-RCODE/version/flags 0, RDLEN 0.
            buffer.writeInteger(UInt8(0))
            buffer.writeInteger(DNSRecordType.opt.rawValue)
            buffer.writeInteger(size)
            // TTL: extended RCODE (8), version (8), DO (1), Z (15) — RFC 6891 §6.1.3, RFC 3225.
            buffer.writeInteger(self.dnssecOK ? UInt32(0x0000_8000) : UInt32(0))
            buffer.writeInteger(UInt16(0))
        }
    }

    /// The message in wire format.
    public func encoded() -> ByteBuffer {
        var buffer = ByteBuffer()
        self.encode(into: &buffer)
        return buffer
    }
}

extension DNSResourceRecord {
    func write(to buffer: inout ByteBuffer) {
        self.name.write(to: &buffer)
        buffer.writeInteger(self.type.rawValue)
        buffer.writeInteger(self.dnsClass)
        buffer.writeInteger(self.ttl)
        let lengthIndex = buffer.writerIndex
        buffer.writeInteger(UInt16(0))
        let start = buffer.writerIndex
        switch self.data {
        case .a(let bytes), .aaaa(let bytes):
            buffer.writeBytes(bytes)
        case .mx(let preference, let exchange):
            buffer.writeInteger(preference)
            exchange.write(to: &buffer)
        case .cname(let target), .ptr(let target):
            target.write(to: &buffer)
        case .soa(let soa):
            soa.primaryServer.write(to: &buffer)
            soa.responsibleMailbox.write(to: &buffer)
            for value in [soa.serial, soa.refresh, soa.retry, soa.expire, soa.minimum] {
                buffer.writeInteger(value)
            }
        case .tlsa(let tlsa):
            buffer.writeInteger(tlsa.usage)
            buffer.writeInteger(tlsa.selector)
            buffer.writeInteger(tlsa.matchingType)
            buffer.writeBytes(tlsa.data)
        case .txt(let strings):
            for string in strings {
                let bytes = string.prefix(255)
                buffer.writeInteger(UInt8(bytes.count))
                buffer.writeBytes(bytes)
            }
        }
        buffer.setInteger(UInt16(truncatingIfNeeded: buffer.writerIndex - start), at: lengthIndex)
    }
}
