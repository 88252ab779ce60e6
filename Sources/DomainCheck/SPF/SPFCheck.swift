/// The `spf` check: the envelope domain publishes exactly one SPF record (RFC 7208 §4.5)
/// and it authorises every egress IP (check_host() gives `pass`, §2.6.3) without
/// authorising everyone (`+all`).
enum SPFCheck {
    static func check(domain: String, egress: [EgressAddress], dns: DNSSnapshot) throws(DNSSnapshot.Missing) -> CheckResult {
        let (records, answer) = try SPFEvaluator.records(at: domain, dns: dns)
        let ips = Self.unique(egress.map(\.ip))
        func fail(_ finding: String, fix: Bool = true, existing: [String] = records, adding: [IPAddress] = ips) -> CheckResult {
            CheckResult(
                name: "spf", status: .fail, finding: finding,
                fix: fix ? RecordFix(name: domain, type: "TXT", value: Self.suggestedRecord(existing: existing, adding: adding)) : nil)
        }
        if let failure = answer.failure {
            return fail("TXT lookup of \(domain) failed: \(failure)", fix: false)
        }
        if ips.isEmpty {
            return CheckResult(name: "spf", status: .warn, finding: "no egress IP known, so SPF authorisation cannot be checked")
        }
        if records.isEmpty {
            return fail("\(domain) publishes no SPF record (v=spf1), so receivers cannot tell the relay's IPs are authorised")
        }
        if records.count > 1 {
            return fail("\(domain) publishes \(records.count) SPF records; RFC 7208 §4.5 makes that a permerror: merge them into one")
        }
        let record: SPFRecord
        do {
            record = try SPFRecord(parsing: records[0])
        } catch {
            return fail("the SPF record does not parse (\(error)): a permerror (RFC 7208 §4.6)", existing: [])
        }
        if let everyone = record.directives.first(where: { $0.mechanism == .all && $0.qualifier == .pass }) {
            return fail("'\(everyone.text)' authorises every host on the internet to send as \(domain)")
        }

        var authorised: [String] = []
        var refused: [String] = []
        var missing: [IPAddress] = []
        var temporary: [String] = []
        var unevaluated: Set<String> = []
        var lookups = 0
        for ip in ips {
            let outcome = try SPFEvaluator.checkHost(ip, domain: domain, dns: dns)
            lookups = max(lookups, outcome.lookups)
            unevaluated.formUnion(outcome.unevaluated)
            switch outcome.result {
            case .pass:
                authorised.append("\(ip) (\(outcome.decidedBy ?? "pass"))")
            case .temperror:
                temporary.append("\(ip): temperror, \(outcome.reason ?? "DNS failure")")
            case .permerror, .none:
                refused.append("\(ip): \(outcome.result.rawValue), \(outcome.reason ?? "")")
                missing.append(ip)
            case .fail, .softfail, .neutral:
                refused.append("\(ip): \(outcome.result.rawValue)" + (outcome.decidedBy.map { " (\($0))" } ?? " (no mechanism matches)"))
                missing.append(ip)
            }
        }
        let macroNote = unevaluated.isEmpty ? "" : "; not evaluated (macros): \(unevaluated.sorted().joined(separator: " "))"
        if !refused.isEmpty {
            return fail("not authorised: " + refused.joined(separator: "; ") + macroNote, adding: missing)
        }
        if !temporary.isEmpty {
            return fail(temporary.joined(separator: "; "), fix: false)
        }
        return CheckResult(
            name: "spf", status: .pass,
            finding: "authorises \(authorised.joined(separator: ", ")); \(lookups) of \(SPFEvaluator.lookupLimit) DNS lookups" + macroNote)
    }

    /// The record to publish: `ip4:`/`ip6:` terms for `ips` first (they match without a
    /// DNS lookup), then the terms of the existing record(s) — several records merged into
    /// one — with `+all` weakened to `~all`, ending in `~all` when nothing ends it.
    ///
    ///     suggestedRecord(existing: ["v=spf1 include:_spf.example.net -all"], adding: [192.0.2.10])
    ///     // "v=spf1 ip4:192.0.2.10 include:_spf.example.net -all"
    static func suggestedRecord(existing: [String], adding ips: [IPAddress]) -> String {
        var terms = ips.map { $0.isIPv4 ? "ip4:\($0)" : "ip6:\($0)" }
        var ending: String? = nil
        var redirect: String? = nil
        for record in existing where SPFRecord.isSPF(record) {
            for term in record.split(separator: " ").dropFirst().map(String.init) {
                let lower = term.lowercased()
                if ["all", "+all", "-all", "~all", "?all"].contains(lower) {
                    // The strictest ending wins; +all and ?all authorise too much.
                    if lower == "-all" || ending == nil { ending = lower == "-all" ? "-all" : "~all" }
                } else if lower.hasPrefix("redirect=") {
                    redirect = redirect ?? term
                } else if !terms.contains(where: { $0.lowercased() == lower }) {
                    terms.append(term)
                }
            }
        }
        if let ending {
            terms.append(ending)
        } else if let redirect {
            terms.append(redirect)
        } else {
            terms.append("~all")
        }
        return (["v=spf1"] + terms).joined(separator: " ")
    }

    private static func unique(_ ips: [IPAddress]) -> [IPAddress] {
        var seen = Set<IPAddress>()
        return ips.filter { seen.insert($0).inserted }
    }
}
