/// Special-purpose address ranges (RFC 6890) that outbound connections screen: delivery
/// workers (`DestinationPolicy`) and webhook senders (`WebhookURLScreen`).
extension IPNetwork {
    /// Ranges that reach this host or its link, or nothing at all: loopback, unspecified,
    /// link-local (with the cloud metadata address 169.254.169.254), multicast, broadcast.
    public static let localRanges: [(network: IPNetwork, kind: String)] = [
        ("0.0.0.0/8", "an unspecified address"), ("::/128", "an unspecified address"),
        ("127.0.0.0/8", "a loopback address"), ("::1/128", "a loopback address"),
        ("169.254.0.0/16", "a link-local address"), ("fe80::/10", "a link-local address"),
        ("224.0.0.0/4", "a multicast address"), ("ff00::/8", "a multicast address"),
        ("255.255.255.255/32", "the broadcast address"),
    ].map { (IPNetwork(parsing: $0.0)!, $0.1) }

    /// Private networks: RFC 1918, shared address space (RFC 6598) and unique local
    /// IPv6 (RFC 4193).
    public static let privateRanges: [(network: IPNetwork, kind: String)] = [
        ("10.0.0.0/8", "a private address"), ("172.16.0.0/12", "a private address"), ("192.168.0.0/16", "a private address"),
        ("100.64.0.0/10", "a shared (carrier-grade NAT) address"), ("fc00::/7", "a unique local address"),
    ].map { (IPNetwork(parsing: $0.0)!, $0.1) }

    /// An IPv4-mapped IPv6 address (`::ffff:a.b.c.d`) as the IPv4 address it maps.
    public static func canonical(_ ip: [UInt8]) -> [UInt8] {
        if ip.count == 16, ip[0..<10].allSatisfy({ $0 == 0 }), ip[10] == 0xFF, ip[11] == 0xFF { return Array(ip[12...]) }
        return ip
    }
}
