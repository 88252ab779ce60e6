import RelayCore

/// Connection leases in use for one (egress IP, site) unit (`conn:<ip>|<site>`, counting
/// only leases that have not expired): roughly, open SMTP connections from that IP to
/// that site across all workers.
public struct LeaseReport: Sendable, Hashable, Encodable {
    public var ip: EgressID
    public var site: SiteName
    public var inUse: Int

    public init(ip: EgressID, site: SiteName, inUse: Int) {
        self.ip = ip
        self.site = site
        self.inUse = inUse
    }

    enum CodingKeys: String, CodingKey { case ip, site, inUse = "in_use" }
}
