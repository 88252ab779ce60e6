/// The decoded RDATA of the record types the resolver understands. Records of other
/// types are skipped by the decoder.
public enum DNSRecordData: Sendable, Hashable {
    /// An IPv4 address, 4 octets in network order (RFC 1035 §3.4.1).
    case a([UInt8])
    /// An IPv6 address, 16 octets in network order (RFC 3596 §2.2).
    case aaaa([UInt8])
    /// RFC 1035 §3.3.9. An exchange of `.` with preference 0 is a null MX (RFC 7505).
    case mx(preference: UInt16, exchange: DNSName)
    /// RFC 1035 §3.3.1.
    case cname(DNSName)
    /// RFC 1035 §3.3.13.
    case soa(DNSSOAData)
    /// One or more character-strings (RFC 1035 §3.3.14).
    case txt([[UInt8]])
    /// RFC 1035 §3.3.12: the name an address's reverse name points to.
    case ptr(DNSName)
    /// RFC 6698 §2.1: certificate usage, selector, matching type, association data.
    case tlsa(TLSARecord)

    /// The record type this data belongs to.
    public var type: DNSRecordType {
        switch self {
        case .a: return .a
        case .aaaa: return .aaaa
        case .mx: return .mx
        case .cname: return .cname
        case .soa: return .soa
        case .txt: return .txt
        case .ptr: return .ptr
        case .tlsa: return .tlsa
        }
    }
}
