/// A resource record of the answer, authority or additional section (RFC 1035 §4.1.3).
public struct DNSResourceRecord: Sendable, Hashable {
    public var name: DNSName
    public var dnsClass: UInt16
    /// Seconds the record may be cached (RFC 1035 §3.2.1; RFC 2181 §8 caps it at 2^31 − 1).
    public var ttl: UInt32
    public var data: DNSRecordData

    public init(name: DNSName, dnsClass: UInt16 = DNSQuestion.classIN, ttl: UInt32, data: DNSRecordData) {
        self.name = name
        self.dnsClass = dnsClass
        self.ttl = ttl
        self.data = data
    }

    public var type: DNSRecordType { self.data.type }
}
