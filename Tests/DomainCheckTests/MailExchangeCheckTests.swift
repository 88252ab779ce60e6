import DNSResolver
import Testing

@testable import DomainCheck

/// RFC 5321 §5.1 and RFC 7505: can the From domain receive replies and bounces?
@Suite struct MailExchangeCheckTests {
    static func check(_ zone: Zone) throws -> CheckResult {
        try MailExchangeCheck.check(domain: "example.test", dns: zone.snapshot)
    }

    @Test func mxWithAnAddressPasses() throws {
        let result = try Self.check(Fixture.goodZone)
        #expect(result.status == .pass)
        #expect(result.finding == "MX 10 mx.example.test")
    }

    @Test func addressWithoutMXIsAnImplicitMX() throws {
        var zone = Zone()
        zone.a("example.test", "192.0.2.80")
        let result = try Self.check(zone)
        #expect(result.status == .pass)
        #expect(result.finding.contains("implicit MX"))
    }

    @Test func nullMXFails() throws {
        var zone = Zone()
        zone.mx("example.test", 0, ".")
        zone.a("example.test", "192.0.2.80")
        let result = try Self.check(zone)
        #expect(result.status == .fail)
        #expect(result.finding.contains("null MX (RFC 7505)"))
        #expect(result.fix?.type == "MX")
        #expect(result.fix?.name == "example.test")
    }

    @Test func nullMXBesideOthersWarns() throws {
        var zone = Zone()
        zone.mx("example.test", 0, ".")
        zone.mx("example.test", 10, "mx.example.test")
        zone.a("mx.example.test", "192.0.2.25")
        #expect(try Self.check(zone).status == .warn)
    }

    @Test func nothingOrNXDOMAINOrUnresolvableHostsFail() throws {
        #expect(try Self.check(Zone()).status == .fail)
        var nx = Zone()
        nx.nxdomain("example.test", .mx)
        #expect(try Self.check(nx).finding.contains("NXDOMAIN"))
        var dangling = Zone()
        dangling.mx("example.test", 10, "gone.example.test")
        #expect(try Self.check(dangling).finding.contains("has an address"))
        var failing = Zone()
        failing.failing("example.test", .mx)
        #expect(try Self.check(failing).fix == nil)
    }
}
