/// A DMARC policy record (RFC 7489 §6.3), e.g.
///
/// ```
/// _dmarc.example.com. IN TXT "v=DMARC1; p=quarantine; rua=mailto:dmarc@example.com; adkim=s"
/// ```
struct DMARCRecord: Sendable, Hashable {
    enum Policy: String, Sendable, Hashable {
        case none, quarantine, reject
    }

    enum Alignment: String, Sendable, Hashable {
        case relaxed = "r"
        case strict = "s"
    }

    /// `p=`; `none` when it is missing or invalid but `rua=` is present (§6.6.3 step 6).
    var policy: Policy
    /// `sp=`: the policy for subdomains, when given.
    var subdomainPolicy: Policy?
    var dkimAlignment: Alignment
    var spfAlignment: Alignment
    /// `pct=`, default 100.
    var percent: Int
    /// `rua=`: where aggregate reports go.
    var aggregateReports: String?
    /// Set when `p=` was missing or invalid and the record was read as `p=none`.
    var policyNote: String?

    /// Whether a TXT string is a DMARC record: its first tag is `v=DMARC1` (§6.4, §6.6.3).
    static func isDMARC(_ text: String) -> Bool {
        guard let tags = TagList(parsing: text) else {
            return text.hasPrefix("v=DMARC1")
        }
        return tags.firstName == "v" && tags["v"] == "DMARC1"
    }

    struct Invalid: Error, Sendable, Hashable, CustomStringConvertible {
        let description: String
    }

    init(parsing text: String) throws(Invalid) {
        guard let tags = TagList(parsing: text) else { throw Invalid(description: "not a tag=value list") }
        guard tags.firstName == "v", tags["v"] == "DMARC1" else { throw Invalid(description: "does not start with v=DMARC1") }
        self.aggregateReports = tags["rua"].flatMap { $0.isEmpty ? nil : $0 }
        if let written = tags["p"], let policy = Policy(rawValue: written.lowercased()) {
            self.policy = policy
            self.policyNote = nil
        } else if self.aggregateReports != nil {
            self.policy = .none
            self.policyNote = tags["p"] == nil ? "p= is missing" : "p=\(tags["p"]!) is not none, quarantine or reject"
        } else {
            throw Invalid(description: tags["p"] == nil ? "p= is missing" : "p=\(tags["p"]!) is not none, quarantine or reject")
        }
        self.subdomainPolicy = tags["sp"].flatMap { Policy(rawValue: $0.lowercased()) }
        self.dkimAlignment = tags["adkim"].flatMap { Alignment(rawValue: $0.lowercased()) } ?? .relaxed
        self.spfAlignment = tags["aspf"].flatMap { Alignment(rawValue: $0.lowercased()) } ?? .relaxed
        self.percent = tags["pct"].flatMap { Int($0) }.map { min(100, max(0, $0)) } ?? 100
    }

    /// The record a domain should start with: monitoring, with aggregate reports.
    static func suggested(for domain: String) -> String {
        "v=DMARC1; p=none; rua=mailto:dmarc@\(domain)"
    }
}
