import DNSResolver
import RelayCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An IPv4 (4 octets) or IPv6 (16 octets) address. An IPv4-mapped IPv6 address
/// (`::ffff:192.0.2.1`, RFC 4291 §2.5.5.2) is kept as the IPv4 address it maps, as
/// SPF evaluates it (RFC 7208 §5).
public struct IPAddress: Sendable, Hashable, CustomStringConvertible {
    public let bytes: [UInt8]

    public init?(_ text: String) {
        guard let bytes = IPNetwork.parseAddress(text) else { return nil }
        self.init(bytes: bytes)
    }

    public init?(bytes: [UInt8]) {
        switch bytes.count {
        case 4:
            self.bytes = bytes
        case 16 where bytes[0..<10].allSatisfy({ $0 == 0 }) && bytes[10] == 0xFF && bytes[11] == 0xFF:
            self.bytes = Array(bytes[12..<16])
        case 16:
            self.bytes = bytes
        default:
            return nil
        }
    }

    public var isIPv4: Bool { self.bytes.count == 4 }

    /// Where its PTR records live: `10.2.0.192.in-addr.arpa` (RFC 1035 §3.5) or the
    /// nibbles under `ip6.arpa` (RFC 3596 §2.5).
    public var reverseName: String {
        DNSName(reverseOf: self.bytes)?.description ?? ""
    }

    /// Whether `other` (of the same family) shares the first `prefixLength` bits.
    public func matches(_ other: [UInt8], prefixLength: Int) -> Bool {
        guard let other = IPAddress(bytes: other), other.bytes.count == self.bytes.count else { return false }
        var bits = max(0, min(prefixLength, self.bytes.count * 8))
        for (a, b) in zip(self.bytes, other.bytes) {
            if bits >= 8 {
                guard a == b else { return false }
                bits -= 8
            } else {
                let mask = UInt8(truncatingIfNeeded: 0xFF << (8 - bits))
                return a & mask == b & mask
            }
        }
        return true
    }

    /// The usual text form: dotted quad, or RFC 5952 for IPv6.
    public var description: String {
        var buffer = [CChar](repeating: 0, count: 64)
        let family = self.isIPv4 ? AF_INET : AF_INET6
        return self.bytes.withUnsafeBytes { raw in
            guard inet_ntop(family, raw.baseAddress, &buffer, socklen_t(buffer.count)) != nil else { return "?" }
            return String(decoding: buffer.prefix(while: { $0 != 0 }).map { UInt8(bitPattern: $0) }, as: UTF8.self)
        }
    }
}
