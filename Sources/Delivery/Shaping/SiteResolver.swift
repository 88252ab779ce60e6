import RelayCore

/// Decides which receiving site a destination belongs to (MX rollup) and with which
/// shaping, from `delivery.sites`, the built-in ``SitePresets`` and
/// `delivery.default_shaping`.
///
/// Sites are tried in this order: the configured sites, in configuration order, then the
/// presets that no configured site replaces (same name), in ``SitePresets/all`` order.
/// A configured site naming a `preset` takes the preset's MX patterns when it has none
/// of its own, and its shaping is layered: the site's own values, then the preset's,
/// then `default_shaping`, then ``ShapingSettings/builtIn``. `preset` always names a
/// built-in preset, never another configured site.
///
/// MX patterns are ``MXPattern``s: `*.google.com` matches `aspmx.l.google.com` but not
/// `google.com`; case-insensitive; a trailing dot on the host is ignored.
public struct SiteResolver: Sendable {
    private struct Candidate: Sendable {
        var site: ResolvedSite
        var patterns: [MXPattern]
    }

    private let candidates: [Candidate]
    /// `default_shaping` over the built-in defaults: the shaping of sites nobody configured.
    private let fallback: ShapingSettings

    public init(settings: DeliverySettings) {
        let fallback = settings.defaultShaping.over(.builtIn)
        var candidates: [Candidate] = []
        for site in settings.sites {
            let preset = site.preset.flatMap(SitePresets.named)
            let mx = site.mx.isEmpty ? preset?.mx ?? [] : site.mx
            let shaping = preset.map { site.shaping.over($0.shaping) } ?? site.shaping
            candidates.append(
                Candidate(
                    site: ResolvedSite(name: SiteName(rawValue: SiteResolver.safeName(site.name)), shaping: shaping.over(fallback)),
                    patterns: mx.map(MXPattern.init)))
        }
        let configured = Set(settings.sites.map(\.name))
        for preset in SitePresets.all where !configured.contains(preset.name) {
            candidates.append(
                Candidate(
                    site: ResolvedSite(name: SiteName(rawValue: preset.name), shaping: preset.shaping.over(fallback)),
                    patterns: preset.mx.map(MXPattern.init)))
        }
        self.candidates = candidates
        self.fallback = fallback
    }

    /// The site of a destination domain whose MX hosts are `mxHosts`, in preference order
    /// (lowest preference value first).
    ///
    /// The first MX host that matches any site's pattern decides (so a domain whose
    /// primary MX is a Google host is `gmail` even if a backup MX matches another site);
    /// for that host, sites are tried in the order described on the type. When no host
    /// matches, the site is `mx:` and the registrable domain of the primary MX host
    /// (``RegistrableDomain``: `mx1.example.co.jp` → `mx:example.co.jp`), so domains
    /// hosted together still share limits. Without MX hosts (implicit MX, RFC 5321
    /// §5.1) it is `domain:<domain>`. Both use `default_shaping` over the built-in
    /// defaults. A null MX (RFC 7505, host `.`) counts as no host; callers should have
    /// bounced such a domain already.
    public func site(forDomain domain: DomainName, mxHosts: [String]) -> ResolvedSite {
        let hosts = mxHosts.map(MXPattern.normalized).filter { !$0.isEmpty }
        for host in hosts {
            for candidate in candidates where candidate.patterns.contains(where: { $0.matches(normalized: host) }) {
                return candidate.site
            }
        }
        guard let primary = hosts.first else {
            return ResolvedSite(name: SiteName(rawValue: "domain:" + SiteResolver.safeName(domain.rawValue)), shaping: fallback)
        }
        return ResolvedSite(name: SiteName(rawValue: "mx:" + SiteResolver.safeName(RegistrableDomain.of(primary))), shaping: fallback)
    }

    /// The site of a destination sent to a static route (`delivery.routes`) instead of
    /// its MX: `route:<host>`, with `default_shaping` over the built-in defaults.
    public func site(forRoute host: String) -> ResolvedSite {
        ResolvedSite(name: SiteName(rawValue: "route:" + SiteResolver.safeName(MXPattern.normalized(host))), shaping: fallback)
    }

    /// `name` with `|` (the Redis key separator), whitespace and control characters
    /// replaced by `_`, so that a site name is always one key part.
    static func safeName(_ name: String) -> String {
        guard name.unicodeScalars.contains(where: unsafe) else { return name }
        return String(String.UnicodeScalarView(name.unicodeScalars.map { unsafe($0) ? "_" : $0 }))
    }

    private static func unsafe(_ scalar: Unicode.Scalar) -> Bool {
        scalar == "|" || scalar.properties.isWhitespace || scalar.value < 0x20 || scalar.value == 0x7F
    }
}
