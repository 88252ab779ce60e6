/// A bounds-checked cursor over a whole DNS message, for the decoder.
///
/// Every read throws ``DNSError/Code/malformedResponse`` rather than trapping when the
/// message ends early. Names follow compression pointers (RFC 1035 §4.1.4) only to
/// offsets before the start of the run of labels that holds the pointer, so each jump
/// lands lower than every earlier one and a name can never revisit an offset: pointer
/// loops are impossible. The 255-octet name limit and a cap on pointers per name are
/// enforced as well.
struct DNSWireReader {
    /// The most pointers followed in one name; far more than any real message needs.
    static let maximumPointers = 64

    let bytes: [UInt8]
    var position: Int

    init(_ bytes: [UInt8]) {
        self.bytes = bytes
        self.position = 0
    }

    var remaining: Int { self.bytes.count - self.position }

    mutating func readUInt8() throws -> UInt8 {
        guard self.position < self.bytes.count else { throw Self.truncated("an octet") }
        defer { self.position += 1 }
        return self.bytes[self.position]
    }

    mutating func readUInt16() throws -> UInt16 {
        guard self.remaining >= 2 else { throw Self.truncated("a 16-bit field") }
        defer { self.position += 2 }
        return UInt16(self.bytes[self.position]) << 8 | UInt16(self.bytes[self.position + 1])
    }

    mutating func readUInt32() throws -> UInt32 {
        let high = try self.readUInt16()
        let low = try self.readUInt16()
        return UInt32(high) << 16 | UInt32(low)
    }

    mutating func readBytes(_ count: Int) throws -> [UInt8] {
        guard count >= 0, self.remaining >= count else { throw Self.truncated("\(count) octets") }
        defer { self.position += count }
        return Array(self.bytes[self.position..<(self.position + count)])
    }

    /// Reads a possibly compressed name (RFC 1035 §4.1.4) and leaves the cursor after its
    /// last inline octet (the terminating zero or the first pointer).
    mutating func readName() throws -> DNSName {
        var labels: [[UInt8]] = []
        var wireLength = 1
        var cursor = self.position
        var segmentStart = self.position
        var resumeAt: Int? = nil
        var pointers = 0
        while true {
            guard cursor < self.bytes.count else { throw Self.truncated("a name") }
            let length = self.bytes[cursor]
            switch length & 0xC0 {
            case 0x00:
                if length == 0 {
                    self.position = resumeAt ?? (cursor + 1)
                    return DNSName(uncheckedLabels: labels)
                }
                let start = cursor + 1
                let end = start + Int(length)
                guard end <= self.bytes.count else { throw Self.truncated("a label") }
                wireLength += 1 + Int(length)
                guard wireLength <= DNSName.maximumWireLength else {
                    throw DNSError.malformed("name longer than \(DNSName.maximumWireLength) octets")
                }
                labels.append(Array(self.bytes[start..<end]))
                cursor = end
            case 0xC0:
                guard cursor + 1 < self.bytes.count else { throw Self.truncated("a compression pointer") }
                let target = Int(length & 0x3F) << 8 | Int(self.bytes[cursor + 1])
                guard target < segmentStart else {
                    throw DNSError.malformed("compression pointer at \(cursor) to \(target) loops or points forwards")
                }
                pointers += 1
                guard pointers <= Self.maximumPointers else {
                    throw DNSError.malformed("too many compression pointers in one name")
                }
                if resumeAt == nil { resumeAt = cursor + 2 }
                cursor = target
                segmentStart = target
            default:
                throw DNSError.malformed("unsupported label type 0x\(String(length, radix: 16)) at \(cursor)")
            }
        }
    }

    static func truncated(_ what: String) -> DNSError {
        DNSError.malformed("message truncated while reading \(what)")
    }
}
