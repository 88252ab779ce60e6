import DNSResolver
import NIOCore
import RelayCore

/// Where mail for a domain goes: a static route from the configuration, or the domain's
/// mail exchangers from DNS (RFC 5321 §5.1, with the implicit-MX fallback to A/AAAA) —
/// without the addresses ``DestinationPolicy`` refuses.
struct DestinationRouter: Sendable {
    struct Target: Sendable {
        var host: String
        var addresses: [SocketAddress]
        /// The MX preference (lower is tried first).
        var preference: UInt16 = 0
        /// The domain's own address record standing in for a missing MX (RFC 5321 §5.1).
        var isImplicit = false
        /// A static route from the configuration.
        var isRoute = false
        /// The MX and address answers were DNSSEC-authenticated (RFC 7672 §2.2), so the
        /// host's TLSA records may be used.
        var isAuthenticated = false
    }

    /// A failure to find where to deliver; permanent ones bounce, others defer.
    struct RoutingError: Error {
        var isPermanent: Bool
        /// The SMTP-style reply recorded in events.
        var reply: String
    }

    /// `delivery.routes`, by normalised domain (a route written `Example.COM.` applies).
    let routes: [DomainName: String]
    let mxPort: Int
    let dns: DNSResolver
    let policy: DestinationPolicy
    let localAddresses: LocalAddresses

    init(routes: [String: String], mxPort: Int, dns: DNSResolver, policy: DestinationPolicy, localAddresses: LocalAddresses) {
        self.routes = Dictionary(routes.map { (DomainName(normalizing: $0.key), $0.value) }, uniquingKeysWith: { first, _ in first })
        self.mxPort = mxPort
        self.dns = dns
        self.policy = policy
        self.localAddresses = localAddresses
    }

    func targets(for domain: DomainName) async throws(RoutingError) -> [Target] {
        try policy.screen(try await unscreenedTargets(for: domain), domain: domain, localAddresses: localAddresses.current())
    }

    private func unscreenedTargets(for domain: DomainName) async throws(RoutingError) -> [Target] {
        if let route = routes[domain], let (host, port) = HostPort.parse(route) {
            return [Target(host: host, addresses: try await resolve(host: host, port: port, domain: domain), isRoute: true)]
        }
        let exchangers: [MailExchanger]
        do {
            exchangers = try await dns.mailExchangers(for: domain.rawValue)
        } catch let error as DNSError {
            if error.isPermanent {
                let reply =
                    error.code == .nullMX
                    ? "556 5.1.10 Recipient domain \(domain) does not accept mail (null MX, RFC 7505)"
                    : "550 5.1.2 Recipient domain \(domain) does not exist (\(error))"
                throw RoutingError(isPermanent: true, reply: reply)
            }
            throw RoutingError(isPermanent: false, reply: "451 4.4.3 DNS lookup for \(domain) failed: \(error)")
        } catch {
            throw RoutingError(isPermanent: false, reply: "451 4.4.3 DNS lookup for \(domain) failed: \(error)")
        }
        return exchangers.map { exchanger in
            Target(
                host: exchanger.host, addresses: exchanger.addresses.compactMap { Self.withPort($0, mxPort) },
                preference: exchanger.preference, isImplicit: exchanger.isImplicit,
                isAuthenticated: exchanger.isAuthenticated)
        }
    }

    private func resolve(host: String, port: Int, domain: DomainName) async throws(RoutingError) -> [SocketAddress] {
        if let literal = try? SocketAddress(ipAddress: host, port: port) { return [literal] }
        do {
            let addresses = try await dns.addresses(host)
            if addresses.isEmpty {
                throw RoutingError(isPermanent: false, reply: "451 4.4.3 Route host \(host) for \(domain) has no address")
            }
            return addresses.compactMap { Self.withPort($0, port) }
        } catch let error as RoutingError {
            throw error
        } catch {
            throw RoutingError(isPermanent: false, reply: "451 4.4.3 Route host \(host) for \(domain) did not resolve: \(error)")
        }
    }

    static func withPort(_ address: SocketAddress, _ port: Int) -> SocketAddress? {
        guard let ip = address.ipAddress else { return nil }
        return try? SocketAddress(ipAddress: ip, port: port)
    }
}
