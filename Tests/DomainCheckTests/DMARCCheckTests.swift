import DNSResolver
import Testing

@testable import DomainCheck

/// RFC 7489: record parsing, discovery (§6.6.3) and identifier alignment (§3.1).
@Suite struct DMARCCheckTests {
    static func dmarc(_ zone: Zone, domain: String = "example.test") throws -> CheckResult {
        DMARCCheck.check(domain: domain, discovery: try DMARCCheck.discover(domain, dns: zone.snapshot))
    }

    @Test func parsesTags() throws {
        let record = try DMARCRecord(parsing: "v=DMARC1; p=Reject; sp=none; adkim=s; aspf=r; pct=50; rua=mailto:d@example.test")
        #expect(record.policy == .reject)
        #expect(record.subdomainPolicy == DMARCRecord.Policy.none)
        #expect(record.dkimAlignment == .strict)
        #expect(record.spfAlignment == .relaxed)
        #expect(record.percent == 50)
        #expect(record.aggregateReports == "mailto:d@example.test")
        // §6.6.3 step 6: a bad p= with a rua= reads as p=none.
        let lenient = try DMARCRecord(parsing: "v=DMARC1; p=bogus; rua=mailto:d@example.test")
        #expect(lenient.policy == DMARCRecord.Policy.none)
        #expect(lenient.policyNote != nil)
        #expect(throws: DMARCRecord.Invalid.self) { try DMARCRecord(parsing: "v=DMARC1; p=bogus") }
        #expect(throws: DMARCRecord.Invalid.self) { try DMARCRecord(parsing: "p=none; v=DMARC1") }
        #expect(!DMARCRecord.isDMARC("p=none; v=DMARC1"))
        #expect(DMARCRecord.isDMARC("v=DMARC1;p=none"))
    }

    @Test func policies() throws {
        var quarantine = Zone()
        quarantine.txt("_dmarc.example.test", "v=DMARC1; p=quarantine; rua=mailto:d@example.test")
        #expect(try Self.dmarc(quarantine).status == .pass)

        var none = Zone()
        none.txt("_dmarc.example.test", "v=DMARC1; p=none")
        let result = try Self.dmarc(none)
        #expect(result.status == .warn)
        #expect(result.finding.contains("monitoring only"))
        #expect(result.finding.contains("no rua="))
    }

    @Test func missingRecordSuggestsPNone() throws {
        let result = try Self.dmarc(Zone())
        #expect(result.status == .fail)
        #expect(result.fix == RecordFix(name: "_dmarc.example.test", type: "TXT", value: "v=DMARC1; p=none; rua=mailto:dmarc@example.test"))
    }

    @Test func subdomainFallsBackToTheOrganizationalDomain() throws {
        var zone = Zone()
        zone.txt("_dmarc.example.test", "v=DMARC1; p=reject; sp=quarantine; rua=mailto:d@example.test")
        let result = try Self.dmarc(zone, domain: "news.example.test")
        #expect(result.status == .pass)
        #expect(result.finding.contains("p=quarantine at _dmarc.example.test"))
        #expect(result.finding.contains("inherited"))

        let missing = try Self.dmarc(Zone(), domain: "news.example.test")
        #expect(missing.finding.contains("_dmarc.news.example.test nor _dmarc.example.test"))
        #expect(missing.fix?.name == "_dmarc.news.example.test")
    }

    @Test func severalRecordsAndNonDMARCText() throws {
        var two = Zone()
        two.txt("_dmarc.example.test", "v=DMARC1; p=none")
        two.txt("_dmarc.example.test", "v=DMARC1; p=reject")
        #expect(try Self.dmarc(two).finding.contains("2 DMARC records"))

        var other = Zone()
        other.txt("_dmarc.example.test", "some verification token")
        other.txt("_dmarc.example.test", "v=DMARC1; p=reject")
        #expect(try Self.dmarc(other).status == .pass)
    }

    @Test func organizationalDomains() {
        #expect(OrganizationalDomain.of("mail.news.example.com") == "example.com")
        #expect(OrganizationalDomain.of("Example.COM.") == "example.com")
        #expect(OrganizationalDomain.of("news.example.co.jp") == "example.co.jp")
        #expect(OrganizationalDomain.of("example.co.uk") == "example.co.uk")
        #expect(OrganizationalDomain.of("localhost") == "localhost")
    }

    static func alignment(
        from: String, mailFrom: String? = nil, dkim: String? = nil, record: String? = nil, selectors: Bool = true
    ) throws -> CheckResult {
        var zone = Zone()
        if let record { zone.txt("_dmarc.\(from)", record) }
        let input = DomainCheckInput(
            domain: from, egress: [], dkimSelectors: selectors ? [DKIMSelector(selector: "s1", record: "p=abc")] : [],
            envelopeDomain: mailFrom, dkimDomain: dkim)
        return DMARCCheck.alignment(input, discovery: try DMARCCheck.discover(from, dns: zone.snapshot))
    }

    @Test func alignmentRelaxedAndStrict() throws {
        #expect(try Self.alignment(from: "example.test").status == .pass)
        // Relaxed: same organizational domain.
        #expect(try Self.alignment(from: "example.test", mailFrom: "bounce.example.test", dkim: "mail.example.test").status == .pass)
        // Strict DKIM, relaxed SPF: SPF still aligns.
        #expect(
            try Self.alignment(
                from: "example.test", mailFrom: "bounce.example.test", dkim: "mail.example.test", record: "v=DMARC1; p=none; adkim=s"
            ).status == .pass)
        // Both strict: neither aligns.
        let strict = try Self.alignment(
            from: "example.test", mailFrom: "bounce.example.test", dkim: "mail.example.test", record: "v=DMARC1; p=none; adkim=s; aspf=s")
        #expect(strict.status == .fail)
        #expect(strict.finding.contains("DMARC cannot pass"))
        // Another organization entirely.
        #expect(try Self.alignment(from: "example.test", mailFrom: "relay.provider.test", dkim: "provider.test").status == .fail)
        // Without a selector only SPF can align.
        #expect(try Self.alignment(from: "example.test", mailFrom: "provider.test", selectors: false).status == .fail)
        #expect(try Self.alignment(from: "example.test", selectors: false).status == .pass)
    }
}
