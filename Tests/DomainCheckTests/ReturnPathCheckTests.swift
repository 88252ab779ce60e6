import DNSResolver
import Testing

@testable import DomainCheck

/// `domain check` with a VERP return-path domain: SPF is judged for it (the MAIL FROM
/// domain, RFC 7208 §2.4), and its MX — where bounces go — must exist and resolve.
@Suite struct ReturnPathCheckTests {
    static let returnPath = "bounces.example.test"

    static var input: DomainCheckInput {
        var input = Fixture.input
        input = DomainCheckInput(
            domain: input.domain, egress: input.egress, dkimSelectors: input.dkimSelectors, returnPathDomain: "Bounces.Example.Test.")
        return input
    }

    static var goodZone: Zone {
        var zone = Fixture.goodZone
        zone.txt(returnPath, "v=spf1 ip4:192.0.2.10 ip6:2001:db8::25 -all")
        zone.mx(returnPath, 10, "bounce.example.test")
        zone.a("bounce.example.test", "192.0.2.53")
        return zone
    }

    @Test func aReturnPathWithMXAndSPFPasses() throws {
        let report = DomainChecks.report(Self.input, zone: Self.goodZone.snapshot)
        #expect(Self.input.envelopeDomain == Self.returnPath)
        #expect(report.checks.map(\.name).contains("return-path-mx"))
        let mx = try #require(report.checks(named: "return-path-mx").first)
        #expect(mx.status == .pass, "\(mx.finding)")
        #expect(mx.target == Self.returnPath)
        #expect(mx.finding.contains("bounce.example.test"))
        for check in report.checks where check.name != "unsubscribe" {
            #expect(check.status == .pass, "\(check.name): \(check.finding)")
        }
    }

    @Test func withoutAReturnPathThereIsNoReturnPathCheck() {
        let report = DomainChecks.report(Fixture.input, zone: Fixture.goodZone.snapshot)
        #expect(report.checks(named: "return-path-mx").isEmpty)
    }

    @Test func aReturnPathWithoutMXFailsWithTheRecordToPublish() throws {
        var zone = Fixture.goodZone
        zone.txt(Self.returnPath, "v=spf1 ip4:192.0.2.10 ip6:2001:db8::25 -all")
        let report = DomainChecks.report(Self.input, zone: zone.snapshot)
        let mx = try #require(report.checks(named: "return-path-mx").first)
        #expect(mx.status == .fail)
        #expect(mx.finding.contains("bounce listener"))
        #expect(mx.fix?.name == Self.returnPath)
        #expect(mx.fix?.type == "MX")
        #expect(report.hasFailures)
    }

    @Test func anMXHostWithoutAddressFails() throws {
        var zone = Fixture.goodZone
        zone.txt(Self.returnPath, "v=spf1 ip4:192.0.2.10 ip6:2001:db8::25 -all")
        zone.mx(Self.returnPath, 10, "nowhere.example.test")
        let report = DomainChecks.report(Self.input, zone: zone.snapshot)
        #expect(report.checks(named: "return-path-mx").first?.status == .fail)
    }

    @Test func spfIsJudgedForTheReturnPathNotTheFromDomain() throws {
        // The From domain authorises the egress IPs; the return-path domain does not.
        var zone = Fixture.goodZone
        zone.mx(Self.returnPath, 10, "bounce.example.test")
        zone.a("bounce.example.test", "192.0.2.53")
        zone.txt(Self.returnPath, "v=spf1 ip4:198.51.100.1 -all")
        let report = DomainChecks.report(Self.input, zone: zone.snapshot)
        let spf = try #require(report.checks(named: "spf").first)
        #expect(spf.status == .fail)
        #expect(spf.fix?.name == Self.returnPath)
        #expect(spf.fix?.value == "v=spf1 ip4:192.0.2.10 ip6:2001:db8::25 ip4:198.51.100.1 -all")
    }
}
