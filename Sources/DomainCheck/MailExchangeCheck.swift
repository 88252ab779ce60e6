import DNSResolver

/// The `mx` check: the From domain can receive mail, so replies and bounces (DSNs, RFC
/// 3464) reach the sender. RFC 5321 §5.1: MX records, or without any an A/AAAA record as
/// an implicit MX; a null MX (`0 .`, RFC 7505) declares that the domain accepts no mail.
enum MailExchangeCheck {
    static func check(domain: String, dns: DNSSnapshot) throws(DNSSnapshot.Missing) -> CheckResult {
        let fix = RecordFix(name: domain, type: "MX", value: "10 <host that receives mail for \(domain)>")
        func result(_ status: CheckStatus, _ finding: String, fix: RecordFix? = nil) -> CheckResult {
            CheckResult(name: "mx", status: status, finding: finding, fix: fix)
        }
        let answer = try dns.answer(domain, .mx)
        switch answer {
        case .failed(let why):
            return result(.fail, "MX lookup of \(domain) failed: \(why)")
        case .nameDoesNotExist:
            return result(.fail, "\(domain) does not exist in DNS (NXDOMAIN)", fix: fix)
        case .records:
            break
        }
        let exchanges = answer.exchanges
        let hosts = exchanges.filter { !$0.isNullMX }
        if exchanges.isEmpty {
            var addresses: [String] = []
            for type in [DNSRecordType.a, .aaaa] {
                let lookup = try dns.answer(domain, type)
                if let why = lookup.failure { return result(.fail, "address lookup of \(domain) failed: \(why)") }
                addresses += lookup.addresses.compactMap { IPAddress(bytes: $0)?.description }
            }
            if addresses.isEmpty {
                return result(.fail, "\(domain) has neither MX nor A/AAAA records: replies and bounces to it cannot be delivered", fix: fix)
            }
            return result(.pass, "no MX; mail goes to its address \(addresses.joined(separator: ", ")) (implicit MX, RFC 5321 §5.1)")
        }
        if hosts.isEmpty {
            return result(
                .fail, "\(domain) publishes a null MX (RFC 7505): it accepts no mail, so replies and bounces to the From address are lost",
                fix: fix)
        }
        let listed = hosts.map(\.description).joined(separator: ", ")
        var reachable: [String] = []
        for host in hosts.prefix(10) {
            for type in [DNSRecordType.a, .aaaa] {
                let lookup = try dns.answer(host.exchange, type)
                if !lookup.addresses.isEmpty {
                    reachable.append(host.exchange)
                    break
                }
            }
        }
        if reachable.isEmpty {
            return result(.fail, "none of the MX hosts of \(domain) (\(listed)) has an address")
        }
        if hosts.count != exchanges.count {
            return result(.warn, "MX \(listed) beside a null MX: RFC 7505 §3 allows a null MX only on its own; remove it")
        }
        return result(.pass, "MX \(listed)")
    }

    /// The `return-path-mx` check: the VERP return-path domain receives mail, so bounces
    /// sent to `b-<token>@<domain>` reach the relay's bounce listener (its MX). The same
    /// rules as `mx`; the finding says what fails when it does not.
    static func returnPath(_ domain: String, dns: DNSSnapshot) throws(DNSSnapshot.Missing) -> CheckResult {
        var result = try check(domain: domain, dns: dns)
        result.name = "return-path-mx"
        result.target = domain
        if result.status == .fail {
            result.finding += " — bounces to the VERP return path cannot reach the bounce listener"
            result.fix = RecordFix(name: domain, type: "MX", value: "10 <the host running hikyaku --role bounce>")
        }
        return result
    }
}
