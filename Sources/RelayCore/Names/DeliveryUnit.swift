/// An (egress address, site) pair: the unit connection leases, per-IP rates, adaptive
/// slow-downs and per-IP suspensions apply to. Stored as `<egress>|<site>` in key names
/// and lease sets; an egress name never contains `|`, so the first `|` separates them.
public struct DeliveryUnit: Hashable, Sendable, CustomStringConvertible {
    public var egress: EgressID
    public var site: SiteName

    public init(egress: EgressID, site: SiteName) {
        self.egress = egress
        self.site = site
    }

    /// Reads `<egress>|<site>`; nil without a `|`.
    public init?(rawValue: String) {
        guard let bar = rawValue.firstIndex(of: "|") else { return nil }
        self.egress = EgressID(rawValue: String(rawValue[..<bar]))
        self.site = SiteName(rawValue: String(rawValue[rawValue.index(after: bar)...]))
    }

    /// `<egress>|<site>`, as in key names.
    public var rawValue: String { egress.rawValue + "|" + site.rawValue }
    public var description: String { rawValue }
}
