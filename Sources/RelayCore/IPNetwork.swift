#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An IPv4 or IPv6 network in CIDR notation (`10.0.0.0/8`, `127.0.0.1`, `2001:db8::/32`),
/// used for the relay allow-list.
public struct IPNetwork: Sendable, Hashable, Codable, CustomStringConvertible {
    /// Network address in network byte order: 4 octets for IPv4, 16 for IPv6.
    public let address: [UInt8]
    public let prefixLength: Int

    public init?(parsing text: String) {
        let parts = text.trimmingSpaces().split(separator: "/", maxSplits: 1).map(String.init)
        guard let first = parts.first, let bytes = IPNetwork.parseAddress(first) else { return nil }
        let maxPrefix = bytes.count * 8
        var prefix = maxPrefix
        if parts.count == 2 {
            guard let p = Int(parts[1]), (0...maxPrefix).contains(p) else { return nil }
            prefix = p
        }
        self.address = IPNetwork.mask(bytes, prefix: prefix)
        self.prefixLength = prefix
    }

    /// Parses a textual IPv4 or IPv6 address into its octets.
    public static func parseAddress(_ text: String) -> [UInt8]? {
        var v4 = in_addr()
        if inet_pton(AF_INET, text, &v4) == 1 {
            return withUnsafeBytes(of: &v4) { Array($0) }
        }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, text, &v6) == 1 {
            return withUnsafeBytes(of: &v6) { Array($0) }
        }
        return nil
    }

    private static func mask(_ bytes: [UInt8], prefix: Int) -> [UInt8] {
        var out = bytes
        for i in 0..<out.count {
            let bitsHere = max(0, min(8, prefix - i * 8))
            out[i] &= bitsHere == 0 ? 0 : UInt8(truncatingIfNeeded: 0xFF << (8 - bitsHere))
        }
        return out
    }

    /// Whether `addressBytes` (4 or 16 octets) lies in this network. An IPv4-mapped
    /// IPv6 address (`::ffff:a.b.c.d`) is compared as the IPv4 address it maps.
    public func contains(addressBytes: [UInt8]) -> Bool {
        var candidate = addressBytes
        if candidate.count == 16, address.count == 4,
            candidate[0..<10].allSatisfy({ $0 == 0 }), candidate[10] == 0xFF, candidate[11] == 0xFF
        {
            candidate = Array(candidate[12..<16])
        }
        guard candidate.count == address.count else { return false }
        return IPNetwork.mask(candidate, prefix: prefixLength) == address
    }

    public func contains(_ addressText: String) -> Bool {
        guard let bytes = IPNetwork.parseAddress(addressText) else { return false }
        return contains(addressBytes: bytes)
    }

    public init(from decoder: Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        guard let parsed = IPNetwork(parsing: text) else {
            throw DecodingError.dataCorruptedError(
                in: container, debugDescription: "'\(text)' is not an IP network; write e.g. 10.0.0.0/8, 192.0.2.7 or 2001:db8::/32")
        }
        self = parsed
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }

    public var description: String {
        var buffer = [CChar](repeating: 0, count: 64)
        let family = address.count == 4 ? AF_INET : AF_INET6
        let text: String = address.withUnsafeBytes { raw in
            guard inet_ntop(family, raw.baseAddress, &buffer, socklen_t(buffer.count)) != nil else { return "?" }
            return String(decoding: buffer.prefix(while: { $0 != 0 }).map { UInt8(bitPattern: $0) }, as: UTF8.self)
        }
        return "\(text)/\(prefixLength)"
    }
}
