import DNSResolver
import Foundation
import Testing

@testable import DomainCheck

/// The whole report over literal zones: a correct one and one broken in every way.
@Suite struct DomainChecksTests {
    @Test func correctZonePassesEverything() throws {
        let report = DomainChecks.report(Fixture.input, zone: Fixture.goodZone.snapshot)
        #expect(
            report.checks.map(\.name) == [
                "spf", "dkim", "dmarc", "alignment", "mx", "fcrdns", "fcrdns", "tls", "unsubscribe", "bulk-sender",
            ])
        for check in report.checks where check.name != "unsubscribe" {
            #expect(check.status == .pass, "\(check.name): \(check.finding)")
        }
        #expect(report.checks(named: "unsubscribe").first?.status == .info)
        #expect(report.summary == .init(pass: 9, fail: 0, warn: 0, info: 1))
        #expect(!report.hasFailures)
    }

    @Test func brokenZoneNamesEachFailureWithItsFix() throws {
        var zone = Zone()
        zone.txt("example.test", "v=spf1 ip4:198.51.100.0/24 ~all")
        zone.txt("s1._domainkey.example.test", "v=DKIM1; k=rsa; p=MIIBIjANBgOLDKEY")
        zone.mx("example.test", 0, ".")
        zone.ptr("192.0.2.10", "host-10.provider.test")
        zone.a("host-10.provider.test", "192.0.2.10")
        let report = DomainChecks.report(Fixture.input, zone: zone.snapshot)
        func check(_ name: String, _ target: String? = nil) -> CheckResult? {
            report.checks.first { $0.name == name && (target == nil || $0.target == target) }
        }
        #expect(check("spf")?.status == .fail)
        #expect(
            check("spf")?.fix
                == RecordFix(name: "example.test", type: "TXT", value: "v=spf1 ip4:192.0.2.10 ip6:2001:db8::25 ip4:198.51.100.0/24 ~all"))
        #expect(check("dkim", "s1")?.fix == RecordFix(name: "s1._domainkey.example.test", type: "TXT", value: Fixture.dkimRecord))
        #expect(check("dmarc")?.fix?.value == "v=DMARC1; p=none; rua=mailto:dmarc@example.test")
        #expect(check("mx")?.finding.contains("null MX") == true)
        #expect(check("fcrdns", "192.0.2.10")?.fix == RecordFix(name: "10.2.0.192.in-addr.arpa", type: "PTR", value: "out1.example.test"))
        #expect(check("fcrdns", "2001:db8::25")?.status == .fail)
        #expect(check("bulk-sender")?.status == .fail)
        #expect(
            check("bulk-sender")?.finding
                == "Gmail/Yahoo 2024 bulk-sender requirements not met: SPF pass, DKIM pass, DMARC record, FCrDNS for every IP")
        #expect(report.hasFailures)
    }

    @Test func withoutSelectorsOrTLSTheChecklistSaysSo() throws {
        var input = Fixture.input
        input.dkimSelectors = []
        let report = DomainChecks.report(input, zone: Fixture.goodZone.snapshot)
        #expect(report.checks(named: "dkim").first?.status == .warn)
        #expect(report.checks(named: "bulk-sender").first?.status == .warn)
        #expect(report.checks(named: "bulk-sender").first?.finding.contains("not checked: DKIM pass") == true)

        input.outboundTLS = false
        let noTLS = DomainChecks.report(input, zone: Fixture.goodZone.snapshot)
        #expect(noTLS.checks(named: "tls").first?.status == .fail)
        #expect(noTLS.checks(named: "bulk-sender").first?.status == .fail)
    }

    /// Over a partial snapshot each independent check asks for its first question at once.
    @Test func partialSnapshotCollectsOneQuestionPerCheck() {
        guard case .needs(let keys) = DomainChecks.evaluate(Fixture.input, dns: DNSSnapshot()) else {
            Issue.record("an empty snapshot cannot give a report")
            return
        }
        #expect(
            keys == [
                .init("example.test", .txt), .init("s1._domainkey.example.test", .txt), .init("_dmarc.example.test", .txt),
                .init("example.test", .mx), .init("10.2.0.192.in-addr.arpa", .ptr), .init(IPAddress("2001:db8::25")!.reverseName, .ptr),
            ])
    }

    @Test func jsonHasTheStableKeys() throws {
        var zone = Fixture.goodZone
        zone.txt("_dmarc.example.test", "v=DMARC1; p=reject")  // a second record: fails with a fix
        let report = DomainChecks.report(Fixture.input, zone: zone.snapshot)
        let object = try #require(try JSONSerialization.jsonObject(with: JSONEncoder().encode(report)) as? [String: Any])
        #expect(Set(object.keys) == ["domain", "checks", "summary"])
        #expect(object["domain"] as? String == "example.test")
        let summary = try #require(object["summary"] as? [String: Int])
        #expect(summary == ["pass": 7, "fail": 2, "warn": 0, "info": 1])
        let checks = try #require(object["checks"] as? [[String: Any]])
        let dmarc = try #require(checks.first { $0["name"] as? String == "dmarc" })
        #expect(Set(dmarc.keys) == ["name", "status", "finding", "fix"])
        #expect(dmarc["status"] as? String == "fail")
        #expect(
            (dmarc["fix"] as? [String: String]) == [
                "name": "_dmarc.example.test", "type": "TXT", "value": "v=DMARC1; p=none; rua=mailto:dmarc@example.test",
            ])
        #expect(checks.first { $0["name"] as? String == "fcrdns" }?["target"] as? String == "192.0.2.10")
        #expect(try JSONDecoder().decode(DomainCheckReport.self, from: JSONEncoder().encode(report)) == report)
    }

    @Test func textReportHasOneLinePerCheck() throws {
        var zone = Fixture.goodZone
        zone.nxdomain("s1._domainkey.example.test", .txt)
        let report = DomainChecks.report(Fixture.input, zone: zone.snapshot)
        let lines = report.text.split(separator: "\n").map(String.init)
        #expect(lines.count == report.checks.count + 2)
        #expect(lines.first == "Sending-domain check for example.test")
        #expect(lines.last == "7 pass, 0 warn, 2 fail, 1 info")
        let dkim = try #require(lines.first { $0.hasPrefix("FAIL  dkim s1") })
        #expect(dkim.hasSuffix("— publish: s1._domainkey.example.test TXT \"\(Fixture.dkimRecord)\""))
        #expect(lines.contains { $0.hasPrefix("PASS  spf ") })
        #expect(lines.contains { $0.hasPrefix("INFO  unsubscribe ") })

        var broken = Fixture.goodZone
        broken.nxdomain(IPAddress("192.0.2.10")!.reverseName, .ptr)
        let ptr = DomainChecks.report(Fixture.input, zone: broken.snapshot).text.split(separator: "\n").first {
            $0.hasPrefix("FAIL  fcrdns 192.0.2.10")
        }
        #expect(ptr?.hasSuffix("— publish: 10.2.0.192.in-addr.arpa PTR out1.example.test") == true)
    }
}
