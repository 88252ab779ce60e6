import RelayCore

/// What an operator suspends or resumes (`hikyaku suspend site|ip …`). Each is one key,
/// present while suspended, which `hk_claim` checks before it sends:
///
/// - `.site(s)`: `susp:site:<s>` — nothing is sent to the site from any IP;
/// - `.ip(a, site: s)`: `susp:ip:<a>|<s>` — IP `a` sends nothing to site `s`;
/// - `.ip(a, site: nil)`: `susp:ipall:<a>` — IP `a` sends nothing to any site.
public enum SuspensionTarget: Sendable, Hashable, CustomStringConvertible {
    case site(SiteName)
    case ip(EgressID, site: SiteName?)

    /// `site`, `ip` or `ipall`: the key's middle part, as reports show it.
    var scope: String {
        switch self {
        case .site: return "site"
        case .ip(_, let site): return site == nil ? "ipall" : "ip"
        }
    }

    /// The key that is present while suspended.
    func key(_ keys: QueueKeys) -> String {
        switch self {
        case .site(let site): return keys.suspendedSite(site)
        case .ip(let egress, let site?): return keys.suspendedIP(unit: DeliveryUnit(egress: egress, site: site))
        case .ip(let egress, nil): return keys.suspendedIPEverywhere(egress)
        }
    }

    /// `site` or `ip`, as in the event actions `suspend_site`, `resume_ip`.
    var actionNoun: String {
        if case .site = self { return "site" }
        return "ip"
    }

    public var description: String {
        switch self {
        case .site(let site): return "site \(site)"
        case .ip(let ip, let site?): return "IP \(ip) for site \(site)"
        case .ip(let ip, nil): return "IP \(ip) for every site"
        }
    }
}
