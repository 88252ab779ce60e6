/// Connection leases in use for one (egress IP, site) unit (`conn:<ip>|<site>`, counting
/// only leases that have not expired): roughly, open SMTP connections from that IP to
/// that site across all workers.
public struct LeaseReport: Sendable, Hashable, Encodable {
    public var ip: String
    public var site: String
    public var inUse: Int

    public init(ip: String, site: String, inUse: Int) {
        self.ip = ip
        self.site = site
        self.inUse = inUse
    }

    enum CodingKeys: String, CodingKey { case ip, site, inUse = "in_use" }
}
