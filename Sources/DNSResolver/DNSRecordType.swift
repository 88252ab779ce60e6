/// A resource record TYPE (RFC 1035 §3.2.2, RFC 3596 §2.1, RFC 6891 §6.1.1).
public struct DNSRecordType: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
    public let rawValue: UInt16

    public init(rawValue: UInt16) { self.rawValue = rawValue }

    public static let a = DNSRecordType(rawValue: 1)
    public static let ns = DNSRecordType(rawValue: 2)
    public static let cname = DNSRecordType(rawValue: 5)
    public static let soa = DNSRecordType(rawValue: 6)
    /// A domain name pointer, used for reverse lookups (RFC 1035 §3.3.12).
    public static let ptr = DNSRecordType(rawValue: 12)
    public static let mx = DNSRecordType(rawValue: 15)
    public static let txt = DNSRecordType(rawValue: 16)
    public static let aaaa = DNSRecordType(rawValue: 28)
    /// The EDNS(0) pseudo-record (RFC 6891 §6.1).
    public static let opt = DNSRecordType(rawValue: 41)
    /// A TLS certificate association (RFC 6698 §2), for DANE.
    public static let tlsa = DNSRecordType(rawValue: 52)

    public var description: String {
        switch self {
        case .a: return "A"
        case .ns: return "NS"
        case .cname: return "CNAME"
        case .soa: return "SOA"
        case .ptr: return "PTR"
        case .mx: return "MX"
        case .txt: return "TXT"
        case .aaaa: return "AAAA"
        case .opt: return "OPT"
        case .tlsa: return "TLSA"
        default: return "TYPE\(self.rawValue)"
        }
    }
}
