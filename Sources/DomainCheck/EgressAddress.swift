import DNSResolver

/// An egress IP address with the EHLO name the relay greets with from it.
public struct EgressAddress: Sendable, Hashable {
    public var ip: IPAddress
    public var heloName: String

    public init(ip: IPAddress, heloName: String) {
        self.ip = ip
        self.heloName = DNSSnapshot.normalized(heloName)
    }
}

/// Turns the configured ``EgressIdentity`` values into addresses: an address given is
/// taken as it is; without one (no `delivery.egress`), the EHLO name's A and AAAA
/// records stand for the addresses the host sends from.
enum EgressResolution {
    struct Resolved {
        var addresses: [EgressAddress]
        /// The `egress` check, present when addresses had to be looked up.
        var check: CheckResult?
    }

    static func resolve(_ identities: [EgressIdentity], dns: DNSSnapshot) throws(DNSSnapshot.Missing) -> Resolved {
        var addresses: [EgressAddress] = []
        var lookedUp: [String] = []
        var problems: [String] = []
        for identity in identities {
            if let text = identity.address {
                guard let ip = IPAddress(text) else {
                    problems.append("'\(text)' is not an IP address")
                    continue
                }
                addresses.append(EgressAddress(ip: ip, heloName: identity.heloName))
                continue
            }
            let name = DNSSnapshot.normalized(identity.heloName)
            var found: [IPAddress] = []
            for type in [DNSRecordType.a, DNSRecordType.aaaa] {
                let answer = try dns.answer(name, type)
                if let failure = answer.failure { problems.append("address lookup of \(name) failed: \(failure)") }
                found += answer.addresses.compactMap { IPAddress(bytes: $0) }
            }
            if found.isEmpty {
                problems.append("no delivery.egress is configured and \(name) has no A or AAAA record")
            }
            lookedUp.append(contentsOf: found.map { "\($0) (\(name))" })
            addresses += found.map { EgressAddress(ip: $0, heloName: name) }
        }
        var check: CheckResult? = nil
        if !problems.isEmpty {
            check = CheckResult(
                name: "egress", status: .fail,
                finding: problems.joined(separator: "; ")
                    + "; list this host's source addresses under delivery.egress (or pass --egress IP=HELO)")
        } else if !lookedUp.isEmpty {
            check = CheckResult(
                name: "egress", status: .warn,
                finding:
                    "no delivery.egress configured: assuming the host sends from \(lookedUp.joined(separator: ", ")); list the addresses under delivery.egress to check exactly those"
            )
        }
        return Resolved(addresses: addresses, check: check)
    }
}
