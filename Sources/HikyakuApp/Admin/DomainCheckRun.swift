import DNSResolver
import DomainCheck
import Logging
import NIOPosix
import RelayCore

public typealias DomainCheckReport = DomainCheck.DomainCheckReport

/// `hikyaku domain check`: what to check, and the check over DNS.
public struct DomainCheckRequest: Sendable {
    public var domain: String
    /// `ip` or `ip:port` of recursive servers; empty: delivery.dns_servers, else /etc/resolv.conf.
    public var dnsServers: [String] = []
    /// The DKIM selectors and their exact TXT records; empty: none checked.
    public var dkimSelectors: [(selector: String, record: String)] = []
    /// Egress IPs and EHLO names; empty: delivery.egress (else the host name and its addresses).
    public var egress: [(address: String, heloName: String)] = []
    public var mailFromDomain: String?
    public var dkimDomain: String?
    /// The VERP return-path domain (its MX and SPF are checked).
    public var returnPathDomain: String?

    public init(domain: String) {
        self.domain = domain
    }

    /// Whether `text` is a DNS name (the part after @).
    public static func isDomainName(_ text: String) -> Bool {
        !text.isEmpty && !text.contains("@") && (try? DNSName(text)) != nil
    }

    /// What is wrong with a DKIM record given for `selector`, if anything.
    public static func selectorProblem(selector: String, record: String) -> String? {
        DKIMSelector(selector: selector, record: record).problem
    }

    /// Whether `text` is `ip` or `ip:port` (IPv6 in brackets with a port).
    public static func isDNSServer(_ text: String) -> Bool {
        (try? DNSResolverConfiguration.parse(server: text)) != nil
    }

    /// Asks DNS and checks SPF, DKIM, DMARC, MX, FCrDNS and the rest for `configuration`.
    public func run(_ configuration: HikyakuConfiguration, logger: Logger) async throws -> DomainCheckReport {
        var dns: DNSResolverConfiguration
        do {
            dns = try HikyakuApplication.dnsConfiguration(configuration.delivery)
        } catch let error as ConfigurationError {
            throw OperatorError(error.description)
        }
        if !dnsServers.isEmpty {
            dns.servers = try dnsServers.map { server in
                do { return try DNSResolverConfiguration.parse(server: server) } catch {
                    throw OperatorError("--dns-server '\(server)' is not ip or ip:port")
                }
            }
        }
        var identities = egress.map { EgressIdentity(address: $0.address, heloName: $0.heloName) }
        if identities.isEmpty {
            identities = EgressIdentity.configured(configuration.delivery, hostname: configuration.hostname)
        }
        let input = DomainCheckInput(
            domain: domain, egress: identities,
            dkimSelectors: dkimSelectors.map { DKIMSelector(selector: $0.selector, record: $0.record) },
            envelopeDomain: mailFromDomain, dkimDomain: dkimDomain,
            outboundTLS: configuration.delivery.tls != .disabled, returnPathDomain: returnPathDomain)
        let resolver = DNSResolver(configuration: dns, eventLoopGroup: MultiThreadedEventLoopGroup.singleton, logger: logger)
        let report = await DomainChecker(resolver: resolver).check(input)
        await resolver.shutdown()
        return report
    }
}
