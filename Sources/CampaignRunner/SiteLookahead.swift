import DNSResolver
import Delivery
import Queue
import RelayCore
import Synchronization

/// The receiving site of a recipient domain and that site's limit-bound rate, as the
/// delivery workers will see them (`delivery.sites`, presets, MX rollup, static routes),
/// cached for ten minutes. A runner keeps about `campaigns.lookahead` of each site's rate
/// queued: the pacing that lets a campaign trickle to docomo and flow to Gmail.
final class SiteLookahead: Sendable {
    struct Site: Sendable {
        var name: SiteName
        /// Messages per period the site takes from the whole relay; nil: no limit.
        var rate: Rate?
    }

    private let sites: SiteResolver
    private let routes: Set<String>
    private let dns: DNSResolver
    private let cache = Mutex<[String: (site: Site, until: Int64)]>([:])
    static let ttlMilliseconds: Int64 = 600_000

    init(settings: DeliverySettings, dns: DNSResolver) {
        self.sites = SiteResolver(settings: settings)
        self.routes = Set(settings.routes.keys.map { $0.lowercased() })
        self.dns = dns
    }

    func site(of domain: DomainName) async -> Site {
        let now = WallClock.nowMilliseconds()
        if let hit = cache.withLock({ $0[domain.rawValue] }), hit.until > now { return hit.site }
        let resolved: ResolvedSite
        if let route = routes.contains(domain.rawValue) ? domain.rawValue : nil {
            resolved = sites.site(forRoute: route)
        } else if let exchangers = try? await dns.mailExchangers(for: domain.rawValue) {
            resolved = sites.site(forDomain: domain, mxHosts: exchangers.filter { !$0.isImplicit }.map(\.host))
        } else {
            resolved = sites.site(forDomain: domain, mxHosts: [])
        }
        let site = Site(name: resolved.name, rate: resolved.shaping.rate ?? resolved.shaping.ratePerIP)
        cache.withLock { $0[domain.rawValue] = (site, now + Self.ttlMilliseconds) }
        return site
    }
}
