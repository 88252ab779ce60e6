import NIOCore

/// One receiving site: the domains it receives for, the addresses its MX hosts listen on,
/// and its behaviours.
///
/// ```json
/// {"name": "gmail-like", "domains": ["gmail.sim"], "addresses": ["127.0.1.1", "127.0.1.2"],
///  "mx_domain": "google.sim", "behaviours": {...}}
/// ```
/// MX host `i` (from 1) is `mx<i>.<mx_domain>` and has the `i`th address; every domain of
/// the site points at all of them with preference 10. Without `mx_domain` each domain has
/// its own hosts, `mx<i>.<domain>`; with it the site's domains share MX hosts, which is how
/// a relay rolls domains up into one site by MX.
struct SiteDefinition: Decodable, Sendable {
    var name: String
    var domains: [String]
    var addresses: [String]
    var mxDomain: String?
    var behaviours: SiteBehaviours

    enum CodingKeys: String, CodingKey, CaseIterable {
        case name, domains, addresses, mxDomain = "mx_domain", behaviours
    }

    init(name: String, domains: [String], addresses: [String], mxDomain: String? = nil, behaviours: SiteBehaviours = SiteBehaviours()) {
        self.name = name
        self.domains = domains
        self.addresses = addresses
        self.mxDomain = mxDomain
        self.behaviours = behaviours
    }

    init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let path = decoder.keyPath
        self.name = try container.decode(String.self, forKey: .name)
        self.domains = try container.decode([String].self, forKey: .domains).map { $0.lowercased() }
        self.addresses = try container.decode([String].self, forKey: .addresses)
        self.mxDomain = try container.decodeIfPresent(String.self, forKey: .mxDomain)?.lowercased()
        self.behaviours = try container.decodeIfPresent(SiteBehaviours.self, forKey: .behaviours) ?? SiteBehaviours()
        guard !self.name.isEmpty, self.name.allSatisfy({ $0.isLetter || $0.isNumber || "-_.".contains($0) }) else {
            throw ScenarioError.invalidValue("\(path).name", "must be non-empty letters, digits, '-', '_' or '.'")
        }
        guard !self.domains.isEmpty else { throw ScenarioError.invalidValue("\(path).domains", "must list at least one domain") }
        for (index, domain) in (self.domains + (self.mxDomain.map { [$0] } ?? [])).enumerated() where !Self.isHostname(domain) {
            let key = index < self.domains.count ? "\(path).domains[\(index)]" : "\(path).mx_domain"
            throw ScenarioError.invalidValue(key, "'\(domain)' is not a domain name")
        }
        guard !self.addresses.isEmpty else { throw ScenarioError.invalidValue("\(path).addresses", "must list at least one address") }
        for (index, address) in self.addresses.enumerated() where (try? SocketAddress(ipAddress: address, port: 0)) == nil {
            throw ScenarioError.invalidValue("\(path).addresses[\(index)]", "'\(address)' is not an IP address")
        }
    }

    /// The MX host names, one per address, in address order.
    var mxHosts: [String] {
        self.mxHosts(for: self.domains[0])
    }

    /// The MX host names `domain` points at.
    func mxHosts(for domain: String) -> [String] {
        let base = self.mxDomain ?? domain
        return self.addresses.indices.map { "mx\($0 + 1).\(base)" }
    }

    /// Letters, digits and hyphens in dot-separated labels (RFC 1123 §2.1).
    static func isHostname(_ text: String) -> Bool {
        let labels = text.split(separator: ".", omittingEmptySubsequences: false)
        return labels.count >= 2
            && labels.allSatisfy { label in
                !label.isEmpty && label.count <= 63 && label.first != "-" && label.last != "-"
                    && label.utf8.allSatisfy { ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x2D }
            }
    }
}
