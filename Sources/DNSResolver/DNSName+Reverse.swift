extension DNSName {
    /// The reverse-mapping name of an IP address, where its PTR records live:
    ///
    /// - IPv4 (4 octets): the octets in reverse order under `in-addr.arpa`
    ///   (RFC 1035 §3.5): `192.0.2.10` → `10.2.0.192.in-addr.arpa`.
    /// - IPv6 (16 octets): the 32 nibbles in reverse order under `ip6.arpa`
    ///   (RFC 3596 §2.5): `2001:db8::1` → `1.0.0.0.…​.8.b.d.0.1.0.0.2.ip6.arpa`.
    ///
    /// Returns `nil` for any other length.
    public init?(reverseOf address: [UInt8]) {
        var labels: [[UInt8]] = []
        switch address.count {
        case 4:
            labels = address.reversed().map { Array(String($0).utf8) }
            labels += [Array("in-addr".utf8), Array("arpa".utf8)]
        case 16:
            let digits = Array("0123456789abcdef".utf8)
            for byte in address.reversed() {
                labels.append([digits[Int(byte & 0x0F)]])
                labels.append([digits[Int(byte >> 4)]])
            }
            labels += [Array("ip6".utf8), Array("arpa".utf8)]
        default:
            return nil
        }
        self.init(uncheckedLabels: labels)
    }
}
