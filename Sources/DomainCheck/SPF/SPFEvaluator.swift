/// What check_host() decided for one IP, and how.
struct SPFOutcome: Sendable, Hashable {
    var result: SPFResult
    /// The deciding term, with the include/redirect chain that led to it:
    /// `include:_spf.example.net → ip4:192.0.2.0/24`; nil when nothing matched.
    var decidedBy: String?
    /// Why, for `none`, `permerror` and `temperror`.
    var reason: String?
    /// DNS-querying terms evaluated (RFC 7208 §4.6.4 allows 10).
    var lookups: Int
    /// Terms that could not be evaluated here (macros), as written.
    var unevaluated: [String]
}

/// check_host() of RFC 7208 §4 over a ``DNSSnapshot``: enough of it to tell whether an
/// egress IP is authorised — `ip4`, `ip6`, `a`, `mx`, `ptr`, `exists`, `include`, `all`
/// with their qualifiers and CIDR lengths, `redirect=`, the limit of 10 DNS-querying terms
/// and of 2 void lookups (§4.6.4), the limit of 10 MX hosts per `mx` (§4.6.4), and DNS
/// failures as `temperror` (§5).
///
/// Macros (§7) are not expanded: a term whose domain-spec holds one (`exists:%{i}._spf…`)
/// matches nothing and is listed in ``SPFOutcome/unevaluated``.
struct SPFEvaluator {
    static let lookupLimit = 10
    static let voidLookupLimit = 2
    static let mxHostLimit = 10

    let dns: DNSSnapshot
    private var lookups = 0
    private var voidLookups = 0
    private var unevaluated: [String] = []

    init(dns: DNSSnapshot) {
        self.dns = dns
    }

    /// Evaluates `ip` against the SPF policy of `domain`.
    static func checkHost(_ ip: IPAddress, domain: String, dns: DNSSnapshot) throws(DNSSnapshot.Missing) -> SPFOutcome {
        var evaluator = SPFEvaluator(dns: dns)
        let step = try evaluator.evaluate(ip, domain: DNSSnapshot.normalized(domain), chain: [])
        return SPFOutcome(
            result: step.result, decidedBy: step.decidedBy, reason: step.reason,
            lookups: evaluator.lookups, unevaluated: evaluator.unevaluated)
    }

    /// The SPF records among the TXT records at `domain` (RFC 7208 §4.5), or the answer's failure.
    static func records(at domain: String, dns: DNSSnapshot) throws(DNSSnapshot.Missing) -> (records: [String], answer: DNSSnapshot.Answer)
    {
        let answer = try dns.answer(domain, .txt)
        return (answer.texts.filter(SPFRecord.isSPF), answer)
    }

    private struct Step {
        var result: SPFResult
        var decidedBy: String? = nil
        var reason: String? = nil
    }

    private mutating func evaluate(_ ip: IPAddress, domain: String, chain: [String]) throws(DNSSnapshot.Missing) -> Step {
        // §4.4–4.5: record lookup and selection.
        let (records, answer) = try Self.records(at: domain, dns: self.dns)
        if let failure = answer.failure {
            return Step(result: .temperror, reason: "TXT lookup of \(domain) failed: \(failure)")
        }
        if records.isEmpty {
            return Step(result: .none, reason: "\(domain) has no SPF record")
        }
        if records.count > 1 {
            return Step(result: .permerror, reason: "\(domain) has \(records.count) SPF records (RFC 7208 §4.5)")
        }
        let record: SPFRecord
        do {
            record = try SPFRecord(parsing: records[0])
        } catch {
            return Step(result: .permerror, reason: "SPF record of \(domain): \(error)")
        }

        // §4.6.2: mechanisms left to right; the first match decides.
        for directive in record.directives {
            if directive.mechanism.queriesDNS, let exceeded = self.countLookup() {
                return exceeded
            }
            switch try self.matches(directive.mechanism, ip: ip, domain: domain, chain: chain + [directive.text]) {
            case .match(let inner):
                return Step(result: directive.qualifier.result, decidedBy: inner ?? (chain + [directive.text]).joined(separator: " → "))
            case .noMatch:
                continue
            case .stop(let step):
                return step
            }
        }
        // §6.1: redirect= applies when nothing matched, unless the record has an `all`.
        if let target = record.redirect, !record.directives.contains(where: { $0.mechanism == .all }) {
            if let exceeded = self.countLookup() { return exceeded }
            if target.contains("%") {
                self.unevaluated.append("redirect=\(target)")
                return Step(result: .neutral)
            }
            let step = try self.evaluate(ip, domain: DNSSnapshot.normalized(target), chain: chain + ["redirect=\(target)"])
            if step.result == .none {
                return Step(result: .permerror, reason: "redirect=\(target): \(step.reason ?? "no SPF record")")
            }
            return step
        }
        return Step(result: .neutral)  // §4.7: no match, no redirect
    }

    private enum Match {
        /// With the deciding term inside an `include:`, when that is where it matched.
        case match(String?)
        case noMatch
        case stop(Step)
    }

    private mutating func matches(
        _ mechanism: SPFRecord.Mechanism, ip: IPAddress, domain: String, chain: [String]
    ) throws(DNSSnapshot.Missing) -> Match {
        switch mechanism {
        case .all:
            return .match(nil)
        case .ip4(let network, let length), .ip6(let network, let length):
            return network.isIPv4 == ip.isIPv4 && network.matches(ip.bytes, prefixLength: length) ? .match(nil) : .noMatch
        case .include(let target):
            guard let target = self.expandable(target, term: chain.last) else { return .noMatch }
            // §5.2: pass matches; fail, softfail, neutral do not; none is a permerror.
            let inner = try self.evaluate(ip, domain: target, chain: chain)
            switch inner.result {
            case .pass: return .match(inner.decidedBy)
            case .fail, .softfail, .neutral: return .noMatch
            case .temperror: return .stop(inner)
            case .permerror: return .stop(inner)
            case .none: return .stop(Step(result: .permerror, reason: "include:\(target): \(inner.reason ?? "no SPF record")"))
            }
        case .a(let target, let cidr):
            guard let name = self.expandable(target ?? domain, term: chain.last) else { return .noMatch }
            let answer = try self.dns.answer(name, ip.isIPv4 ? .a : .aaaa)
            if let stop = self.checkVoid(answer, name: name) { return .stop(stop) }
            return Self.anyMatches(answer.addresses, ip, cidr) ? .match(nil) : .noMatch
        case .mx(let target, let cidr):
            guard let name = self.expandable(target ?? domain, term: chain.last) else { return .noMatch }
            let answer = try self.dns.answer(name, .mx)
            if let stop = self.checkVoid(answer, name: name) { return .stop(stop) }
            let hosts = answer.exchanges.filter { !$0.isNullMX }
            if hosts.count > Self.mxHostLimit {
                return .stop(
                    Step(result: .permerror, reason: "mx of \(name) names \(hosts.count) hosts, over \(Self.mxHostLimit) (RFC 7208 §4.6.4)")
                )
            }
            for host in hosts {
                let addresses = try self.dns.answer(host.exchange, ip.isIPv4 ? .a : .aaaa)
                if let failure = addresses.failure {
                    return .stop(Step(result: .temperror, reason: "address lookup of \(host.exchange) failed: \(failure)"))
                }
                if Self.anyMatches(addresses.addresses, ip, cidr) { return .match(nil) }
            }
            return .noMatch
        case .exists(let target):
            guard let name = self.expandable(target, term: chain.last) else { return .noMatch }
            let answer = try self.dns.answer(name, .a)  // §5.7: always an A query
            if let stop = self.checkVoid(answer, name: name) { return .stop(stop) }
            return answer.addresses.isEmpty ? .noMatch : .match(nil)
        case .ptr(let target):
            // §5.5 (deprecated): validated PTR names of ip equal to or under the target.
            guard let target = self.expandable(target ?? domain, term: chain.last) else { return .noMatch }
            let names = try self.dns.answer(ip.reverseName, .ptr)
            if names.failure != nil { return .noMatch }  // §5.5: errors in ptr mean no match
            for name in names.pointers.prefix(10) {
                let forward = try self.dns.answer(name, ip.isIPv4 ? .a : .aaaa)
                guard forward.addresses.contains(where: { IPAddress(bytes: $0) == ip }) else { continue }
                let candidate = DNSSnapshot.normalized(name)
                if candidate == target || candidate.hasSuffix("." + target) { return .match(nil) }
            }
            return .noMatch
        }
    }

    /// Charges one DNS-querying term; a `permerror` step once more than 10 are used.
    private mutating func countLookup() -> Step? {
        self.lookups += 1
        guard self.lookups > Self.lookupLimit else { return nil }
        return Step(result: .permerror, reason: "more than \(Self.lookupLimit) DNS-querying terms (RFC 7208 §4.6.4)")
    }

    /// A failed lookup is a `temperror` (§5); more than 2 empty ones a `permerror` (§4.6.4).
    private mutating func checkVoid(_ answer: DNSSnapshot.Answer, name: String) -> Step? {
        if let failure = answer.failure {
            return Step(result: .temperror, reason: "lookup of \(name) failed: \(failure)")
        }
        guard answer.isEmpty else { return nil }
        self.voidLookups += 1
        guard self.voidLookups > Self.voidLookupLimit else { return nil }
        return Step(result: .permerror, reason: "more than \(Self.voidLookupLimit) lookups found nothing (RFC 7208 §4.6.4)")
    }

    /// The normalized domain, or nil (and noted) when it holds a macro.
    private mutating func expandable(_ domain: String, term: String?) -> String? {
        guard !domain.contains("%") else {
            self.unevaluated.append(term ?? domain)
            return nil
        }
        return DNSSnapshot.normalized(domain)
    }

    private static func anyMatches(_ addresses: [[UInt8]], _ ip: IPAddress, _ cidr: SPFRecord.DualCIDR) -> Bool {
        let length = ip.isIPv4 ? (cidr.v4 ?? 32) : (cidr.v6 ?? 128)
        return addresses.contains { candidate in
            guard let candidate = IPAddress(bytes: candidate), candidate.isIPv4 == ip.isIPv4 else { return false }
            return candidate.matches(ip.bytes, prefixLength: length)
        }
    }
}
