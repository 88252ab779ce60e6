import DNSResolver
import Testing

@testable import DomainCheck

/// RFC 7208 §4.6 and §12: record syntax.
@Suite struct SPFRecordTests {
    @Test func parsesMechanismsQualifiersAndModifiers() throws {
        let record = try SPFRecord(
            parsing:
                "v=spf1 ip4:192.0.2.0/24 -ip6:2001:DB8::/32 a ~a:mail.example.com/28//64 mx//120 ?mx:example.net ptr include:_spf.example.org exists:x.example.org redirect=_spf.example.com exp=explain.example.com unknown=whatever -all"
        )
        #expect(
            record.directives.map(\.mechanism) == [
                .ip4(IPAddress("192.0.2.0")!, prefixLength: 24),
                .ip6(IPAddress("2001:db8::")!, prefixLength: 32),
                .a(nil, cidr: .init()),
                .a("mail.example.com", cidr: .init(v4: 28, v6: 64)),
                .mx(nil, cidr: .init(v6: 120)),
                .mx("example.net", cidr: .init()),
                .ptr(nil),
                .include("_spf.example.org"),
                .exists("x.example.org"),
                .all,
            ])
        #expect(record.directives.map(\.qualifier) == [.pass, .fail, .pass, .softfail, .pass, .neutral, .pass, .pass, .pass, .fail])
        #expect(record.redirect == "_spf.example.com")
        #expect(record.explanation == "explain.example.com")
        #expect(record.terms.count == 13)
    }

    @Test func versionIsCaseInsensitiveAndMustEndWithSpaceOrEnd() throws {
        #expect(SPFRecord.isSPF("v=spf1"))
        #expect(SPFRecord.isSPF("V=SPF1 -all"))
        #expect(!SPFRecord.isSPF("v=spf10 -all"))
        #expect(!SPFRecord.isSPF("v=spf2.0/pra"))
        #expect(try SPFRecord(parsing: "v=spf1   a    -all").directives.count == 2)
        #expect(try SPFRecord(parsing: "v=spf1").directives.isEmpty)
    }

    @Test(arguments: [
        "v=spf1 ip4:2001:db8::1",  // an IPv6 address in ip4
        "v=spf1 ip6:192.0.2.1",  // an IPv4 address in ip6
        "v=spf1 ip4:192.0.2.0/33",  // prefix too long
        "v=spf1 ip4:192.0.2.0/024",  // leading zero
        "v=spf1 a/",  // empty prefix
        "v=spf1 a:example.com/24/64",  // single slash before the IPv6 length
        "v=spf1 include",  // include needs a domain
        "v=spf1 include:",  // empty domain
        "v=spf1 all:example.com",  // all takes no argument
        "v=spf1 foo:bar",  // unknown mechanism
        "v=spf1 redirect=a.example redirect=b.example",
        "v=spf1 exp=a.example exp=b.example",
    ])
    func syntaxErrors(text: String) {
        #expect(throws: SPFRecord.SyntaxError.self) { try SPFRecord(parsing: text) }
    }
}
