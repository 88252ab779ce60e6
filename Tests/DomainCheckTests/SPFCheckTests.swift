import DNSResolver
import Testing

@testable import DomainCheck

/// The `spf` check and its suggested records.
@Suite struct SPFCheckTests {
    static let egress = [
        EgressAddress(ip: IPAddress("192.0.2.10")!, heloName: "out1.example.test"),
        EgressAddress(ip: IPAddress("2001:db8::25")!, heloName: "out6.example.test"),
    ]

    static func check(_ zone: Zone) throws -> CheckResult {
        try SPFCheck.check(domain: "example.test", egress: Self.egress, dns: zone.snapshot)
    }

    @Test func passWhenEveryIPIsAuthorised() throws {
        let result = try Self.check(Fixture.goodZone)
        #expect(result.status == .pass)
        #expect(result.fix == nil)
        #expect(result.finding.contains("192.0.2.10 (ip4:192.0.2.0/24)"))
        #expect(result.finding.contains("2001:db8::25 (ip6:2001:db8::/32)"))
    }

    @Test func missingRecordSuggestsOneWithTheEgressIPs() throws {
        var zone = Zone()
        zone.txt("example.test", "google-site-verification=abc")
        let result = try Self.check(zone)
        #expect(result.status == .fail)
        #expect(result.finding.contains("no SPF record"))
        #expect(result.fix == RecordFix(name: "example.test", type: "TXT", value: "v=spf1 ip4:192.0.2.10 ip6:2001:db8::25 ~all"))
    }

    @Test func recordWithoutTheIPsGetsThemMergedIn() throws {
        var zone = Zone()
        zone.txt("example.test", "v=spf1 include:_spf.provider.test ip6:2001:db8::/32 -all")
        zone.txt("_spf.provider.test", "v=spf1 ip4:198.51.100.0/24 -all")
        let result = try Self.check(zone)
        #expect(result.status == .fail)
        #expect(result.finding == "not authorised: 192.0.2.10: fail (-all)")
        #expect(result.fix?.value == "v=spf1 ip4:192.0.2.10 include:_spf.provider.test ip6:2001:db8::/32 -all")
    }

    @Test func plusAllFailsEvenThoughTheIPsPass() throws {
        var zone = Zone()
        zone.txt("example.test", "v=spf1 ip4:192.0.2.10 +all")
        let result = try Self.check(zone)
        #expect(result.status == .fail)
        #expect(result.finding.contains("'+all' authorises every host"))
        #expect(result.fix?.value == "v=spf1 ip4:192.0.2.10 ip6:2001:db8::25 ~all")
    }

    @Test func twoRecordsAreMergedIntoOne() throws {
        var zone = Zone()
        zone.txt("example.test", "v=spf1 ip4:192.0.2.10 ~all")
        zone.txt("example.test", "v=spf1 include:_spf.provider.test -all")
        let result = try Self.check(zone)
        #expect(result.status == .fail)
        #expect(result.finding.contains("2 SPF records"))
        #expect(result.fix?.value == "v=spf1 ip4:192.0.2.10 ip6:2001:db8::25 include:_spf.provider.test -all")
    }

    @Test func tooManyLookupsFailsWithTheReason() throws {
        var zone = Zone()
        zone.txt("example.test", "v=spf1 include:i1.test -all")
        for n in 1...11 { zone.txt("i\(n).test", "v=spf1 include:i\(n + 1).test") }
        let result = try Self.check(zone)
        #expect(result.status == .fail)
        #expect(result.finding.contains("permerror, more than 10 DNS-querying terms (RFC 7208 §4.6.4)"))
    }

    @Test func dnsFailureIsAFailWithoutAFix() throws {
        var zone = Zone()
        zone.failing("example.test", .txt)
        let result = try Self.check(zone)
        #expect(result.status == .fail)
        #expect(result.fix == nil)
    }

    @Test func suggestedRecords() {
        let ips = [IPAddress("192.0.2.10")!]
        #expect(SPFCheck.suggestedRecord(existing: [], adding: ips) == "v=spf1 ip4:192.0.2.10 ~all")
        #expect(SPFCheck.suggestedRecord(existing: ["v=spf1 mx ?all"], adding: ips) == "v=spf1 ip4:192.0.2.10 mx ~all")
        #expect(
            SPFCheck.suggestedRecord(existing: ["v=spf1 mx redirect=_spf.example.test"], adding: ips)
                == "v=spf1 ip4:192.0.2.10 mx redirect=_spf.example.test")
        #expect(SPFCheck.suggestedRecord(existing: ["v=spf1 ip4:192.0.2.10 -all"], adding: ips) == "v=spf1 ip4:192.0.2.10 -all")
        #expect(
            SPFCheck.suggestedRecord(existing: ["v=spf1 a", "hello"], adding: [IPAddress("2001:db8::1")!])
                == "v=spf1 ip6:2001:db8::1 a ~all")
    }
}
