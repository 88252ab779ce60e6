/// The RDATA of a TLSA record (RFC 6698 §2.1), published at `_<port>._tcp.<host>` to say
/// which certificate or key a TLS server presents (DANE for SMTP: RFC 7672).
///
/// ```
/// _25._tcp.mx.example.com. IN TLSA 3 1 1 (
///     8cb0fc6c527506a053f4f14c8464bebbd6dede2738d11468dd953d7d6a3021f1 )
/// ```
public struct TLSARecord: Sendable, Hashable, CustomStringConvertible {
    /// 0 PKIX-TA, 1 PKIX-EE, 2 DANE-TA, 3 DANE-EE (RFC 7218).
    public var usage: UInt8
    /// 0 the whole certificate, 1 its SubjectPublicKeyInfo.
    public var selector: UInt8
    /// 0 exact bytes, 1 SHA-256, 2 SHA-512.
    public var matchingType: UInt8
    public var data: [UInt8]

    public init(usage: UInt8, selector: UInt8, matchingType: UInt8, data: [UInt8]) {
        self.usage = usage
        self.selector = selector
        self.matchingType = matchingType
        self.data = data
    }

    public static let pkixTA: UInt8 = 0
    public static let pkixEE: UInt8 = 1
    public static let daneTA: UInt8 = 2
    public static let daneEE: UInt8 = 3

    public var description: String {
        let hex = Array("0123456789abcdef")
        return "\(usage) \(selector) \(matchingType) \(String(data.flatMap { [hex[Int($0 >> 4)], hex[Int($0 & 0x0f)]] }))"
    }
}
