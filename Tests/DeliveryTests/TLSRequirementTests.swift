import DNSResolver
import OutboundTLS
import Testing

@testable import Delivery

/// Which TLS an MX host must offer (DANE, then MTA-STS, then the site's `tls_required`).
@Suite struct TLSRequirementTests {
    static let enforce = MTASTSPolicy(mode: .enforce, mx: ["*.example.test"], maxAge: 86400)
    static let testing = MTASTSPolicy(mode: .testing, mx: ["mx.elsewhere.test"], maxAge: 86400)
    static let dane = DANEMatcher(
        name: "_25._tcp.mx1.example.test", host: "mx1.example.test",
        records: [TLSARecord(usage: 3, selector: 1, matchingType: 1, data: [1])])

    static func decide(
        host: String = "mx1.example.test", policy: MTASTSPolicy? = nil, dane: DANEMatcher? = nil,
        site: Bool = false, verify: Bool = true
    ) -> Result<TLSRequirement, TLSRefusal> {
        TLSRequirement.decide(host: host, domain: "example.test", policy: policy, dane: dane, siteRequiresTLS: site, verifySiteTLS: verify)
    }

    @Test func noPolicyIsOpportunistic() {
        #expect(Self.decide() == .success(.opportunistic))
        #expect(Self.decide(policy: Self.testing) == .success(.opportunistic))
    }

    @Test func enforceVerifiesAListedHostAndRefusesAnUnlistedOne() throws {
        #expect(try Self.decide(policy: Self.enforce).get() == .verified(because: "the MTA-STS policy of example.test"))
        guard case .failure(let refusal) = Self.decide(host: "mx.other.test", policy: Self.enforce) else {
            Issue.record("an unlisted MX was accepted")
            return
        }
        #expect(refusal.reason.contains("mx.other.test is not listed in the MTA-STS policy of example.test"))
    }

    @Test func testingReportsOnAListedHost() throws {
        let listed = MTASTSPolicy(mode: .testing, mx: ["mx1.example.test"], maxAge: 60)
        #expect(Self.decide(policy: listed) == .success(.reported(domain: "example.test")))
        #expect(Self.decide(policy: listed).map(\.isMandatory) == .success(false))
        // A site that requires TLS still does.
        #expect(try Self.decide(policy: listed, site: true).get().isMandatory)
    }

    @Test func daneComesBeforeMTASTS() {
        // RFC 8461 §2: with DANE, even an MX the policy does not list is used, under DANE.
        #expect(Self.decide(host: "mx.other.test", policy: Self.enforce, dane: Self.dane) == .success(.dane(Self.dane)))
    }

    @Test func tlsRequiredVerifiesUnlessTurnedOff() throws {
        #expect(try Self.decide(site: true).get() == .verified(because: "this site's tls_required"))
        #expect(try Self.decide(site: true, verify: false).get() == .encrypted(because: "this site's tls_required"))
        #expect(try Self.decide(site: true).get().isMandatory)
    }
}
