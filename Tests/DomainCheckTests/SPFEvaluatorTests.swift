import DNSResolver
import Testing

@testable import DomainCheck

/// check_host() of RFC 7208 over literal zones.
@Suite struct SPFEvaluatorTests {
    static let ip = IPAddress("192.0.2.10")!
    static let ip6 = IPAddress("2001:db8::25")!

    static func outcome(_ zone: Zone, _ ip: IPAddress = ip, domain: String = "example.test") throws -> SPFOutcome {
        try SPFEvaluator.checkHost(ip, domain: domain, dns: zone.snapshot)
    }

    @Test func ip4AndIP6WithCIDR() throws {
        var zone = Zone()
        zone.txt("example.test", "v=spf1 ip4:192.0.2.0/28 ip6:2001:db8::/64 -all")
        #expect(try Self.outcome(zone).result == .pass)
        #expect(try Self.outcome(zone).decidedBy == "ip4:192.0.2.0/28")
        #expect(try Self.outcome(zone, Self.ip6).result == .pass)
        #expect(try Self.outcome(zone, IPAddress("192.0.2.16")!).result == .fail)
        #expect(try Self.outcome(zone, IPAddress("192.0.2.16")!).decidedBy == "-all")
        // An IPv4-mapped IPv6 address is evaluated as IPv4 (RFC 7208 §5).
        #expect(try Self.outcome(zone, IPAddress("::ffff:192.0.2.3")!).result == .pass)
        #expect(try Self.outcome(zone).lookups == 0)
    }

    @Test(arguments: [("-all", SPFResult.fail), ("~all", .softfail), ("?all", .neutral), ("+all", .pass), ("all", .pass), ("", .neutral)])
    func qualifiersOfAll(ending: String, expected: SPFResult) throws {
        var zone = Zone()
        zone.txt("example.test", "v=spf1 ip4:198.51.100.1 \(ending)")
        #expect(try Self.outcome(zone).result == expected)
    }

    @Test func aAndMXMechanismsWithDualCIDR() throws {
        var zone = Zone()
        zone.txt("example.test", "v=spf1 a:web.example.test/24 mx//64 -all")
        zone.a("web.example.test", "192.0.2.200")
        zone.mx("example.test", 10, "mx1.example.test")
        zone.a("mx1.example.test", "2001:db8::1")
        #expect(try Self.outcome(zone).result == .pass)
        #expect(try Self.outcome(zone).lookups == 1)
        #expect(try Self.outcome(zone, Self.ip6).result == .pass)
        #expect(try Self.outcome(zone, Self.ip6).lookups == 2)
        #expect(try Self.outcome(zone, IPAddress("192.0.3.1")!).result == .fail)
    }

    @Test func includeMatchesOnlyOnPass() throws {
        var zone = Zone()
        zone.txt("example.test", "v=spf1 include:_spf.provider.test include:_spf.other.test ~all")
        zone.txt("_spf.provider.test", "v=spf1 ip4:198.51.100.0/24 -all")  // fail inside: no match
        zone.txt("_spf.other.test", "v=spf1 ip4:192.0.2.0/24 -all")  // pass inside: match
        let outcome = try Self.outcome(zone)
        #expect(outcome.result == .pass)
        #expect(outcome.decidedBy == "include:_spf.other.test → ip4:192.0.2.0/24")
        #expect(outcome.lookups == 2)
        #expect(try Self.outcome(zone, IPAddress("203.0.113.1")!).result == .softfail)
    }

    @Test func includeOfADomainWithoutSPFIsPermerror() throws {
        var zone = Zone()
        zone.txt("example.test", "v=spf1 include:nospf.test -all")
        zone.txt("nospf.test", "some other text")
        let outcome = try Self.outcome(zone)
        #expect(outcome.result == .permerror)
        #expect(outcome.reason?.contains("include:nospf.test") == true)
    }

    @Test func redirectAppliesOnlyWithoutAll() throws {
        var zone = Zone()
        zone.txt("example.test", "v=spf1 ip4:198.51.100.1 redirect=_spf.example.test")
        zone.txt("_spf.example.test", "v=spf1 ip4:192.0.2.10 -all")
        #expect(try Self.outcome(zone).result == .pass)
        #expect(try Self.outcome(zone).decidedBy == "redirect=_spf.example.test → ip4:192.0.2.10")
        #expect(try Self.outcome(zone, IPAddress("203.0.113.1")!).result == .fail)

        var withAll = Zone()
        withAll.txt("example.test", "v=spf1 redirect=_spf.example.test ?all")
        withAll.txt("_spf.example.test", "v=spf1 ip4:192.0.2.10 -all")
        #expect(try Self.outcome(withAll).result == .neutral)

        var dangling = Zone()
        dangling.txt("example.test", "v=spf1 redirect=missing.test")
        #expect(try Self.outcome(dangling).result == .permerror)
    }

    /// RFC 7208 §4.6.4: the 11th DNS-querying term is a permerror.
    @Test func moreThanTenLookupsIsPermerror() throws {
        var zone = Zone()
        zone.txt("example.test", "v=spf1 include:i1.test -all")
        for n in 1...10 {
            zone.txt("i\(n).test", "v=spf1 include:i\(n + 1).test -all")
        }
        zone.txt("i11.test", "v=spf1 ip4:192.0.2.10 -all")
        let outcome = try Self.outcome(zone)
        #expect(outcome.result == .permerror)
        #expect(outcome.reason?.contains("more than 10") == true)

        // Ten is allowed.
        var ten = Zone()
        ten.txt("example.test", "v=spf1 include:i1.test -all")
        for n in 1...9 { ten.txt("i\(n).test", "v=spf1 include:i\(n + 1).test -all") }
        ten.txt("i10.test", "v=spf1 ip4:192.0.2.10 -all")
        #expect(try Self.outcome(ten).result == .pass)
        #expect(try Self.outcome(ten).lookups == 10)
    }

    @Test func includeLoopEndsInPermerror() throws {
        var zone = Zone()
        zone.txt("example.test", "v=spf1 include:loop.test -all")
        zone.txt("loop.test", "v=spf1 include:example.test -all")
        #expect(try Self.outcome(zone).result == .permerror)
    }

    @Test func moreThanTwoVoidLookupsIsPermerror() throws {
        var zone = Zone()
        zone.txt("example.test", "v=spf1 a:none1.test a:none2.test a:none3.test ip4:192.0.2.10 -all")
        zone.nxdomain("none1.test", .a)
        #expect(try Self.outcome(zone).result == .permerror)
        var two = Zone()
        two.txt("example.test", "v=spf1 a:none1.test a:none2.test ip4:192.0.2.10 -all")
        #expect(try Self.outcome(two).result == .pass)
    }

    @Test func mxWithMoreThanTenHostsIsPermerror() throws {
        var zone = Zone()
        zone.txt("example.test", "v=spf1 mx -all")
        for n in 1...11 { zone.mx("example.test", UInt16(n), "mx\(n).example.test") }
        #expect(try Self.outcome(zone).result == .permerror)
    }

    @Test func dnsFailuresAreTemperror() throws {
        var zone = Zone()
        zone.failing("example.test", .txt)
        #expect(try Self.outcome(zone).result == .temperror)
        var inner = Zone()
        inner.txt("example.test", "v=spf1 a:broken.test -all")
        inner.failing("broken.test", .a)
        #expect(try Self.outcome(inner).result == .temperror)
    }

    @Test func noneAndMultipleRecords() throws {
        var none = Zone()
        none.txt("example.test", "hello")
        #expect(try Self.outcome(none).result == .none)
        var nx = Zone()
        nx.nxdomain("example.test", .txt)
        #expect(try Self.outcome(nx).result == .none)
        var two = Zone()
        two.txt("example.test", "v=spf1 ip4:192.0.2.10 -all")
        two.txt("example.test", "v=spf1 -all")
        #expect(try Self.outcome(two).result == .permerror)
        var bad = Zone()
        bad.txt("example.test", "v=spf1 ip4:192.0.2.10 frobnicate -all")
        #expect(try Self.outcome(bad).result == .permerror)
    }

    @Test func existsPtrAndMacros() throws {
        var zone = Zone()
        zone.txt("example.test", "v=spf1 exists:%{i}._spf.example.test ptr:example.test -all")
        zone.ptr("192.0.2.10", "out1.example.test")
        zone.a("out1.example.test", "192.0.2.10")
        let outcome = try Self.outcome(zone)
        #expect(outcome.result == .pass)
        #expect(outcome.decidedBy == "ptr:example.test")
        #expect(outcome.unevaluated == ["exists:%{i}._spf.example.test"])

        var exists = Zone()
        exists.txt("example.test", "v=spf1 exists:allowed.example.test -all")
        exists.a("allowed.example.test", "127.0.0.2")
        #expect(try Self.outcome(exists).result == .pass)
    }

    /// A partial snapshot names the question it needs next, and evaluation continues past
    /// it once answered: how the checker fetches an include chain.
    @Test func partialSnapshotAsksForTheNextQuestion() throws {
        var snapshot = DNSSnapshot()
        #expect(throws: DNSSnapshot.Missing(key: .init("example.test", .txt))) {
            try SPFEvaluator.checkHost(Self.ip, domain: "example.test", dns: snapshot)
        }
        snapshot.set(.records([.txt([Array("v=spf1 include:_spf.provider.test -all".utf8)])]), for: .init("example.test", .txt))
        #expect(throws: DNSSnapshot.Missing(key: .init("_spf.provider.test", .txt))) {
            try SPFEvaluator.checkHost(Self.ip, domain: "example.test", dns: snapshot)
        }
        snapshot.set(.records([.txt([Array("v=spf1 ip4:192.0.2.10".utf8)])]), for: .init("_SPF.provider.test.", .txt))
        #expect(try SPFEvaluator.checkHost(Self.ip, domain: "example.test", dns: snapshot).result == .pass)
    }
}
