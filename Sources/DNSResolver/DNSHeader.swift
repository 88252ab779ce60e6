/// The fixed 12-octet message header (RFC 1035 §4.1.1), without the section counts,
/// which the codec derives from the sections themselves.
///
/// ```
///   0  1  2  3  4  5  6  7  8  9 10 11 12 13 14 15
/// |                      ID                       |
/// |QR|   Opcode  |AA|TC|RD|RA|   Z    |   RCODE   |
/// ```
public struct DNSHeader: Sendable, Hashable {
    public var id: UInt16
    /// QR: a response rather than a query.
    public var isResponse: Bool
    /// OPCODE: 0 for a standard query.
    public var opcode: UInt8
    /// AA: the answer comes from an authoritative server.
    public var isAuthoritative: Bool
    /// TC: the reply was truncated to fit the UDP payload; retry over TCP (RFC 7766 §5).
    public var isTruncated: Bool
    /// RD: recursion desired.
    public var recursionDesired: Bool
    /// RA: recursion available.
    public var recursionAvailable: Bool
    /// The three Z bits (AD and CD under RFC 4035), kept verbatim.
    public var reservedBits: UInt8
    public var responseCode: DNSResponseCode

    public init(
        id: UInt16,
        isResponse: Bool = false,
        opcode: UInt8 = 0,
        isAuthoritative: Bool = false,
        isTruncated: Bool = false,
        recursionDesired: Bool = true,
        recursionAvailable: Bool = false,
        reservedBits: UInt8 = 0,
        responseCode: DNSResponseCode = .noError
    ) {
        self.id = id
        self.isResponse = isResponse
        self.opcode = opcode
        self.isAuthoritative = isAuthoritative
        self.isTruncated = isTruncated
        self.recursionDesired = recursionDesired
        self.recursionAvailable = recursionAvailable
        self.reservedBits = reservedBits
        self.responseCode = responseCode
    }

    /// The 16 flag bits as they appear on the wire.
    var flags: UInt16 {
        var value = UInt16(self.opcode & 0x0F) << 11
        if self.isResponse { value |= 0x8000 }
        if self.isAuthoritative { value |= 0x0400 }
        if self.isTruncated { value |= 0x0200 }
        if self.recursionDesired { value |= 0x0100 }
        if self.recursionAvailable { value |= 0x0080 }
        value |= UInt16(self.reservedBits & 0x07) << 4
        value |= UInt16(self.responseCode.rawValue & 0x0F)
        return value
    }

    init(id: UInt16, flags: UInt16) {
        self.init(
            id: id,
            isResponse: flags & 0x8000 != 0,
            opcode: UInt8((flags >> 11) & 0x0F),
            isAuthoritative: flags & 0x0400 != 0,
            isTruncated: flags & 0x0200 != 0,
            recursionDesired: flags & 0x0100 != 0,
            recursionAvailable: flags & 0x0080 != 0,
            reservedBits: UInt8((flags >> 4) & 0x07),
            responseCode: DNSResponseCode(rawValue: UInt8(flags & 0x0F))
        )
    }
}

extension DNSHeader {
    /// AD, "authentic data" (RFC 4035 §3.2.3): the resolver validated every record of the
    /// answer with DNSSEC. Only worth believing from a validating resolver one trusts and
    /// reaches over a trusted path (RFC 6698 §1.3, RFC 7672 §2.1.1). In a query (RFC 6840
    /// §5.7) it asks for the bit in the response.
    public var isAuthenticData: Bool {
        get { self.reservedBits & 0b010 != 0 }
        set { self.reservedBits = newValue ? self.reservedBits | 0b010 : self.reservedBits & ~0b010 }
    }
}
