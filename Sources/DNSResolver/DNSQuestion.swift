/// An entry of the question section (RFC 1035 §4.1.2).
public struct DNSQuestion: Sendable, Hashable, CustomStringConvertible {
    /// QCLASS IN (RFC 1035 §3.2.4).
    public static let classIN: UInt16 = 1

    public var name: DNSName
    public var type: DNSRecordType
    public var dnsClass: UInt16

    public init(name: DNSName, type: DNSRecordType, dnsClass: UInt16 = DNSQuestion.classIN) {
        self.name = name
        self.type = type
        self.dnsClass = dnsClass
    }

    public var description: String { "\(self.name) \(self.type)" }
}
