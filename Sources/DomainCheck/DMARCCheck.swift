/// The `dmarc` and `alignment` checks (RFC 7489).
enum DMARCCheck {
    /// What the DMARC record discovery of RFC 7489 §6.6.3 found for a From domain.
    enum Discovery: Sendable, Hashable {
        /// One record, at `name`; `inherited` when it is the organizational domain's.
        case found(DMARCRecord, name: String, inherited: Bool)
        /// No record at the domain nor at its organizational domain (names searched).
        case notFound([String])
        /// Several `v=DMARC1` records at `name`: receivers apply none (§6.6.3 step 3).
        case several(name: String, count: Int)
        /// One record at `name` that does not parse.
        case invalid(name: String, why: String)
        /// The TXT lookup of `name` failed.
        case failed(name: String, why: String)
    }

    /// §6.6.3: `_dmarc.<domain>`; when that has no DMARC record, `_dmarc.<organizational domain>`.
    static func discover(_ domain: String, dns: DNSSnapshot) throws(DNSSnapshot.Missing) -> Discovery {
        let organizational = OrganizationalDomain.of(domain)
        var searched: [String] = []
        for candidate in organizational == domain ? [domain] : [domain, organizational] {
            let name = "_dmarc.\(candidate)"
            searched.append(name)
            let answer = try dns.answer(name, .txt)
            if let failure = answer.failure { return .failed(name: name, why: failure) }
            let records = answer.texts.filter(DMARCRecord.isDMARC)
            if records.count > 1 { return .several(name: name, count: records.count) }
            guard let text = records.first else { continue }
            do {
                return .found(try DMARCRecord(parsing: text), name: name, inherited: candidate != domain)
            } catch {
                return .invalid(name: name, why: error.description)
            }
        }
        return .notFound(searched)
    }

    static func check(domain: String, discovery: Discovery) -> CheckResult {
        let fix = RecordFix(name: "_dmarc.\(domain)", type: "TXT", value: DMARCRecord.suggested(for: domain))
        switch discovery {
        case .failed(let name, let why):
            return CheckResult(name: "dmarc", status: .fail, finding: "TXT lookup of \(name) failed: \(why)")
        case .notFound(let searched):
            return CheckResult(
                name: "dmarc", status: .fail,
                finding: "no DMARC record at \(searched.joined(separator: " nor ")): Gmail and Yahoo require one of bulk senders",
                fix: fix)
        case .several(let name, let count):
            return CheckResult(
                name: "dmarc", status: .fail,
                finding: "\(count) DMARC records at \(name): receivers apply none of them (RFC 7489 §6.6.3); keep one", fix: fix)
        case .invalid(let name, let why):
            return CheckResult(name: "dmarc", status: .fail, finding: "the DMARC record at \(name) is invalid: \(why)", fix: fix)
        case .found(let record, let name, let inherited):
            let policy = inherited ? (record.subdomainPolicy ?? record.policy) : record.policy
            var notes: [String] = []
            if inherited { notes.append("inherited from \(name)" + (record.subdomainPolicy == nil ? "" : " (sp=)")) }
            if let note = record.policyNote { notes.append("\(note), read as p=none") }
            if record.percent < 100 { notes.append("applied to \(record.percent)% of failing mail") }
            if record.aggregateReports == nil { notes.append("no rua=, so no aggregate reports reach you") }
            let detail = notes.isEmpty ? "" : "; " + notes.joined(separator: "; ")
            if policy == .none {
                return CheckResult(
                    name: "dmarc", status: .warn,
                    finding:
                        "p=none at \(name): monitoring only (enough for the Gmail/Yahoo bulk-sender rules); move to quarantine or reject once reports are clean\(detail)"
                )
            }
            return CheckResult(name: "dmarc", status: .pass, finding: "p=\(policy.rawValue) at \(name)\(detail)")
        }
    }

    /// RFC 7489 §3.1: the From domain must match the DKIM `d=` domain or the SPF
    /// (MAIL FROM) domain — exactly under strict alignment, by organizational domain
    /// under relaxed (the default).
    static func alignment(_ input: DomainCheckInput, discovery: Discovery) -> CheckResult {
        var dkimMode = DMARCRecord.Alignment.relaxed
        var spfMode = DMARCRecord.Alignment.relaxed
        if case .found(let record, _, _) = discovery {
            dkimMode = record.dkimAlignment
            spfMode = record.spfAlignment
        }
        func aligned(_ other: String, _ mode: DMARCRecord.Alignment) -> Bool {
            mode == .strict ? other == input.domain : OrganizationalDomain.of(other) == OrganizationalDomain.of(input.domain)
        }
        func describe(_ mode: DMARCRecord.Alignment) -> String { mode == .strict ? "strict" : "relaxed" }
        let spf = aligned(input.envelopeDomain, spfMode)
        let dkim = !input.dkimSelectors.isEmpty && aligned(input.dkimDomain, dkimMode)
        var parts: [String] = []
        if input.dkimSelectors.isEmpty {
            parts.append("DKIM not known (no selector given)")
        } else {
            parts.append("DKIM d=\(input.dkimDomain) \(dkim ? "aligned" : "not aligned") (\(describe(dkimMode)))")
        }
        parts.append("SPF \(input.envelopeDomain) \(spf ? "aligned" : "not aligned") (\(describe(spfMode)))")
        let summary = "From \(input.domain): " + parts.joined(separator: ", ")
        if spf || dkim {
            return CheckResult(name: "alignment", status: .pass, finding: summary)
        }
        return CheckResult(
            name: "alignment", status: .fail,
            finding: summary
                + ": DMARC cannot pass; sign with d=\(input.domain) or send with a MAIL FROM under \(OrganizationalDomain.of(input.domain))"
        )
    }
}
