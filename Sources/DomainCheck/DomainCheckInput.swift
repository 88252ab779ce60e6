import RelayCore

/// One source address the relay sends from and the name it greets with in EHLO.
public struct EgressIdentity: Sendable, Hashable {
    /// The IPv4 or IPv6 address, or nil when the host sends from whatever address the
    /// system chooses (no `delivery.egress`): the check then takes the addresses the EHLO
    /// name resolves to.
    public var address: String?
    /// The EHLO name for connections from this address (RFC 5321 §4.1.1.1).
    public var heloName: String

    public init(address: String?, heloName: String) {
        self.address = address
        self.heloName = heloName
    }

    /// The relay's egress identities from its configuration, as the delivery workers use
    /// them: every `delivery.egress[]` address with its `helo` (default
    /// `delivery.helo_name`, else `hostname`); without `delivery.egress`, the host name
    /// alone.
    public static func configured(_ delivery: DeliverySettings, hostname: String) -> [EgressIdentity] {
        let defaultHelo = delivery.heloName ?? hostname
        if delivery.egress.isEmpty {
            return [EgressIdentity(address: nil, heloName: defaultHelo)]
        }
        return delivery.egress.map { EgressIdentity(address: $0.address, heloName: $0.helo ?? defaultHelo) }
    }
}

/// The DKIM key the relay signs with under one selector, as its DNS record should read.
public struct DKIMSelector: Sendable, Hashable {
    /// The selector (RFC 6376 §3.1): the key lives at `<selector>._domainkey.<domain>`.
    public var selector: String
    /// The TXT record value, e.g. `v=DKIM1; k=rsa; p=MIIBIjANBg…`.
    public var record: String

    public init(selector: String, record: String) {
        self.selector = selector
        self.record = record
    }
}

/// What `hikyaku domain check` checks.
public struct DomainCheckInput: Sendable {
    /// The domain in the From header of the mail the relay sends (RFC 5322 §3.6.2).
    public var domain: String
    /// The relay's source addresses and EHLO names.
    public var egress: [EgressIdentity]
    /// The DKIM keys the relay signs with (d= ``dkimDomain``).
    public var dkimSelectors: [DKIMSelector]
    /// The domain of the envelope sender (MAIL FROM), which SPF authorises (RFC 7208
    /// §2.4). Default: ``domain``.
    public var envelopeDomain: String
    /// The `d=` domain of the relay's DKIM signatures (RFC 6376 §3.5). Default: ``domain``.
    public var dkimDomain: String
    /// Whether the relay uses STARTTLS when the receiver offers it (`delivery.tls`).
    public var outboundTLS: Bool
    /// The VERP return-path domain the relay sends this domain's mail from
    /// (`MAIL FROM:<b-…@returnPathDomain>`, the account's `return_path_domain`), if any:
    /// it becomes the envelope domain SPF is checked for (RFC 7208 §2.4), and its MX — the
    /// bounce listener — is checked (`return-path-mx`).
    public var returnPathDomain: String?

    public init(
        domain: String, egress: [EgressIdentity], dkimSelectors: [DKIMSelector] = [],
        envelopeDomain: String? = nil, dkimDomain: String? = nil, outboundTLS: Bool = true, returnPathDomain: String? = nil
    ) {
        let domain = DNSSnapshot.normalized(domain)
        self.domain = domain
        self.egress = egress
        self.dkimSelectors = dkimSelectors
        self.returnPathDomain = returnPathDomain.map(DNSSnapshot.normalized)
        self.envelopeDomain = (envelopeDomain ?? returnPathDomain).map(DNSSnapshot.normalized) ?? domain
        self.dkimDomain = dkimDomain.map(DNSSnapshot.normalized) ?? domain
        self.outboundTLS = outboundTLS
    }
}
