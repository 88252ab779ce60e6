import DNSResolver
import Testing

@testable import DomainCheck

/// Forward-confirmed reverse DNS and the EHLO name.
@Suite struct FCrDNSCheckTests {
    static func check(_ zone: Zone, ip: String = "192.0.2.10", helo: String = "out1.example.test") throws -> CheckResult {
        try FCrDNSCheck.check(EgressAddress(ip: IPAddress(ip)!, heloName: helo), dns: zone.snapshot)
    }

    @Test func matchingPTRPasses() throws {
        let result = try Self.check(Fixture.goodZone)
        #expect(result.status == .pass)
        #expect(result.target == "192.0.2.10")
        #expect(result.finding == "192.0.2.10 → out1.example.test → 192.0.2.10, the EHLO name")
        #expect(try Self.check(Fixture.goodZone, ip: "2001:db8::25", helo: "out6.example.test").status == .pass)
    }

    /// Names compare case-insensitively and without the trailing dot.
    @Test func caseAndTrailingDotAreIgnored() throws {
        var zone = Zone()
        zone.ptr("192.0.2.10", "OUT1.Example.test")
        zone.a("out1.example.test", "192.0.2.10")
        #expect(try Self.check(zone, helo: "out1.EXAMPLE.test.").status == .pass)
    }

    @Test func missingPTRIsPublished() throws {
        let result = try Self.check(Zone())
        #expect(result.status == .fail)
        #expect(result.fix == RecordFix(name: "10.2.0.192.in-addr.arpa", type: "PTR", value: "out1.example.test"))
        let v6 = try Self.check(Zone(), ip: "2001:db8::25")
        #expect(v6.fix?.name == "5.2.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa")
    }

    @Test func ptrThatDoesNotResolveBackNeedsAnAddressRecord() throws {
        var zone = Zone()
        zone.ptr("192.0.2.10", "out1.example.test")
        zone.a("out1.example.test", "192.0.2.99")
        let result = try Self.check(zone)
        #expect(result.status == .fail)
        #expect(result.finding.contains("does not resolve back"))
        #expect(result.fix == RecordFix(name: "out1.example.test", type: "A", value: "192.0.2.10"))
    }

    @Test func ptrNotMatchingTheEHLONameFails() throws {
        var zone = Zone()
        zone.ptr("192.0.2.10", "host-192-0-2-10.provider.test")
        zone.a("host-192-0-2-10.provider.test", "192.0.2.10")
        let result = try Self.check(zone)
        #expect(result.status == .fail)
        #expect(result.finding.contains("but the relay greets as out1.example.test"))
        #expect(result.finding.contains("(and out1.example.test A 192.0.2.10)"))
        #expect(result.fix == RecordFix(name: "10.2.0.192.in-addr.arpa", type: "PTR", value: "out1.example.test"))
    }

    @Test func egressWithoutAddressUsesTheHostsAddresses() throws {
        var zone = Fixture.goodZone
        zone.a("relay.example.test", "192.0.2.10")
        let resolved = try EgressResolution.resolve([EgressIdentity(address: nil, heloName: "relay.example.test")], dns: zone.snapshot)
        #expect(resolved.addresses == [EgressAddress(ip: IPAddress("192.0.2.10")!, heloName: "relay.example.test")])
        #expect(resolved.check?.status == .warn)
        let unresolved = try EgressResolution.resolve([EgressIdentity(address: nil, heloName: "nowhere.example.test")], dns: zone.snapshot)
        #expect(unresolved.addresses.isEmpty)
        #expect(unresolved.check?.status == .fail)
        let given = try EgressResolution.resolve(Fixture.egress, dns: zone.snapshot)
        #expect(given.check == nil)
        #expect(given.addresses.count == 2)
    }
}
