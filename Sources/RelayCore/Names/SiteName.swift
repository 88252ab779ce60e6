/// A receiving site: the set of domains whose mail goes to the same provider's MX hosts
/// (`gmail`, `docomo`, `outlook`, …, from `delivery.sites` and the built-in presets), or
/// `mx:…`, `domain:…` or `route:…` for a destination that matches none (`SiteResolver`
/// names them). Rate limits, connection limits and adaptive backoff apply per site, so
/// mail to thousands of domains hosted by one provider shares that provider's limits.
public struct SiteName: StringIdentifier {
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
}
