import OutboundTLS
import Testing

@Suite("MTA-STS policy and record (RFC 8461 §3)")
struct MTASTSPolicyTests {
    @Test("an enforce policy with CRLF, LF, spaces and unknown keys")
    func parsesEnforce() throws {
        let text = "version: STSv1\r\nmode: enforce\nmx: mail.example.com\r\nmx:  *.example.net \nextension: x\nmax_age: 86400\r\n"
        let policy = try MTASTSPolicy(parsing: text)
        #expect(policy == MTASTSPolicy(mode: .enforce, mx: ["mail.example.com", "*.example.net"], maxAge: 86400))
    }

    @Test(
        "refused bodies",
        arguments: [
            "mode: enforce\nmx: a.example\nmax_age: 1\n",  // no version
            "version: STSv2\nmode: enforce\nmx: a.example\nmax_age: 1\n",  // wrong version
            "version: STSv1\nmode: strict\nmx: a.example\nmax_age: 1\n",  // unknown mode
            "version: STSv1\nmode: enforce\nmax_age: 86400\n",  // enforce without mx
            "version: STSv1\nmode: enforce\nmx: a.example\n",  // no max_age
            "version: STSv1\nmode: enforce\nmx: a.example\nmax_age: -5\n",  // negative max_age
            "version: STSv1\nmode: enforce\nmx: a.example\nmax_age: 99999999999999999999\n",
            "<html>not a policy</html>",
        ])
    func refuses(text: String) {
        #expect(throws: MTASTSPolicyError.self) { try MTASTSPolicy(parsing: text) }
    }

    @Test("mode none needs no mx; max_age is capped at one year")
    func noneAndCap() throws {
        let policy = try MTASTSPolicy(parsing: "version: STSv1\nmode: none\nmax_age: 99999999\n")
        #expect(policy.mode == .none)
        #expect(policy.maxAge == MTASTSPolicy.maximumMaxAge)
    }

    @Test(
        "mx patterns (§4.1)",
        arguments: [
            ("mail.example.com", "mail.example.com", true),
            ("mail.example.com", "MAIL.Example.COM.", true),
            ("mail.example.com", "mail2.example.com", false),
            ("*.example.com", "mx1.example.com", true),
            ("*.example.com", "example.com", false),
            ("*.example.com", "a.b.example.com", false),
            ("*.example.com", "mx1.badexample.com", false),
            ("*.example.com", ".example.com", false),
        ])
    func patterns(pattern: String, host: String, matches: Bool) {
        #expect(MTASTSPolicy(mode: .enforce, mx: [pattern], maxAge: 60).matches(host: host) == matches)
    }

    @Test(
        "TXT record",
        arguments: [
            ("v=STSv1; id=20160831085700Z;", "20160831085700Z"),
            ("v=STSv1;id=abc", "abc"),
            ("v=STSv1; id=abc; ext=1", "abc"),
            ("v=STSv1; id=", nil),
            ("v=STSv1; id=has-dash", nil),
            ("id=abc; v=STSv1", nil),
            ("v=STSv1", nil),
            ("v=STSv1; id=\(String(repeating: "a", count: 33))", nil),
        ] as [(String, String?)])
    func record(text: String, id: String?) {
        #expect(MTASTSRecord(parsing: text)?.id == id)
    }

    @Test("two STSv1 records mean no record")
    func twoRecords() {
        #expect(MTASTSRecord.find(in: ["v=spf1 -all", "v=STSv1; id=a"]) == MTASTSRecord(id: "a"))
        #expect(MTASTSRecord.find(in: ["v=STSv1; id=a", "v=STSv1; id=b"]) == nil)
    }
}
