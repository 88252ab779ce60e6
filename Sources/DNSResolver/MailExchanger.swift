import NIOCore

/// A host to try for delivery to a domain, with its addresses (RFC 5321 §5.1).
public struct MailExchanger: Sendable, Hashable {
    /// The MX host name, or the domain itself for an implicit MX.
    public var host: String
    public var preference: UInt16
    /// IPv4 addresses first, then IPv6, with port 25; the caller may set another port.
    public var addresses: [SocketAddress]
    /// True when the domain has no MX records and its own address records stand in as an
    /// implicit MX of preference 0 (RFC 5321 §5.1).
    public var isImplicit: Bool
    /// The MX answer and this host's address answers were authenticated with DNSSEC (AD,
    /// only with ``DNSResolverConfiguration/requestDNSSEC``): the condition for looking up
    /// and using its TLSA records (RFC 7672 §2.2).
    public var isAuthenticated: Bool

    public init(host: String, preference: UInt16, addresses: [SocketAddress], isImplicit: Bool, isAuthenticated: Bool = false) {
        self.host = host
        self.preference = preference
        self.addresses = addresses
        self.isImplicit = isImplicit
        self.isAuthenticated = isAuthenticated
    }
}
