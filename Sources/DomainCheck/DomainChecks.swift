/// Every check of `hikyaku domain check`, run over a ``DNSSnapshot``. Pure: the same
/// input and snapshot give the same report.
public enum DomainChecks {
    /// The report, or the questions the checks still need answered.
    public enum Evaluation: Sendable {
        case report(DomainCheckReport)
        case needs(Set<DNSSnapshot.Key>)
    }

    /// Runs the checks. With a partial snapshot, each check that meets an unasked
    /// question contributes it to ``Evaluation/needs(_:)`` (checks are independent, so
    /// one round collects a question from each).
    public static func evaluate(_ input: DomainCheckInput, dns: DNSSnapshot) -> Evaluation {
        var needs = Set<DNSSnapshot.Key>()
        func run(_ body: () throws(DNSSnapshot.Missing) -> CheckResult) -> CheckResult? {
            do {
                return try body()
            } catch {
                needs.insert(error.key)
                return nil
            }
        }
        let egress: EgressResolution.Resolved
        do {
            egress = try EgressResolution.resolve(input.egress, dns: dns)
        } catch {
            return .needs([error.key])
        }

        var checks: [CheckResult?] = []
        checks.append(
            run { () throws(DNSSnapshot.Missing) -> CheckResult in
                try SPFCheck.check(domain: input.envelopeDomain, egress: egress.addresses, dns: dns)
            })
        if input.dkimSelectors.isEmpty {
            checks.append(DKIMCheck.notChecked(domain: input.dkimDomain))
        }
        for selector in input.dkimSelectors {
            checks.append(
                run { () throws(DNSSnapshot.Missing) -> CheckResult in try DKIMCheck.check(selector, domain: input.dkimDomain, dns: dns) })
        }
        var discovery: DMARCCheck.Discovery? = nil
        do {
            discovery = try DMARCCheck.discover(input.domain, dns: dns)
        } catch {
            needs.insert(error.key)
        }
        if let discovery {
            checks.append(DMARCCheck.check(domain: input.domain, discovery: discovery))
            checks.append(DMARCCheck.alignment(input, discovery: discovery))
        }
        checks.append(run { () throws(DNSSnapshot.Missing) -> CheckResult in try MailExchangeCheck.check(domain: input.domain, dns: dns) })
        if let returnPath = input.returnPathDomain {
            checks.append(run { () throws(DNSSnapshot.Missing) -> CheckResult in try MailExchangeCheck.returnPath(returnPath, dns: dns) })
        }
        checks.append(egress.check)
        for address in egress.addresses {
            checks.append(run { () throws(DNSSnapshot.Missing) -> CheckResult in try FCrDNSCheck.check(address, dns: dns) })
        }
        if egress.addresses.isEmpty {
            checks.append(CheckResult(name: "fcrdns", status: .fail, finding: "no egress IP known, so reverse DNS cannot be checked"))
        }
        guard needs.isEmpty else { return .needs(needs) }

        var results = checks.compactMap { $0 }
        results.append(BulkSenderChecklist.tls(enabled: input.outboundTLS))
        results.append(BulkSenderChecklist.unsubscribe)
        results.append(BulkSenderChecklist.summary(of: results))
        return .report(DomainCheckReport(domain: input.domain, checks: results))
    }

    /// The report over a complete snapshot (a zone written out in full).
    public static func report(_ input: DomainCheckInput, zone: DNSSnapshot) -> DomainCheckReport {
        var zone = zone
        zone.isComplete = true
        guard case .report(let report) = Self.evaluate(input, dns: zone) else {
            preconditionFailure("a complete snapshot never misses a question")
        }
        return report
    }
}
