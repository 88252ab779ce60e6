import DNSResolver
import Testing

@testable import DomainCheck

/// The `dkim` check: keys compared by p= (and k=), not as whole strings.
@Suite struct DKIMCheckTests {
    static let selector = DKIMSelector(selector: "s1", record: Fixture.dkimRecord)
    static let name = "s1._domainkey.example.test"

    static func check(_ zone: Zone) throws -> CheckResult {
        try DKIMCheck.check(Self.selector, domain: "example.test", dns: zone.snapshot)
    }

    @Test func keySplitOverCharacterStringsMatches() throws {
        let result = try Self.check(Fixture.goodZone)
        #expect(result.status == .pass)
        #expect(result.target == "s1")
        #expect(result.finding == "the relay's rsa key is published at s1._domainkey.example.test")
    }

    @Test func tagOrderSpacingAndFoldedKeyDoNotMatter() throws {
        var zone = Zone()
        let folded = stride(from: 0, to: Fixture.key.count, by: 64).map { offset in
            String(Fixture.key.dropFirst(offset).prefix(64))
        }.joined(separator: " ")
        zone.txt(Self.name, "k=rsa;  p=\(folded) ; v=DKIM1; h=sha256;")
        #expect(try Self.check(zone).status == .pass)
    }

    @Test func missingKeyIsPublished() throws {
        let result = try Self.check(Zone())
        #expect(result.status == .fail)
        #expect(result.finding.contains("no DKIM key at s1._domainkey.example.test"))
        #expect(result.fix == RecordFix(name: Self.name, type: "TXT", value: Fixture.dkimRecord))
    }

    @Test func otherKeyFails() throws {
        var zone = Zone()
        zone.txt(Self.name, "v=DKIM1; k=rsa; p=MIIBIjANOTHERKEY")
        let result = try Self.check(zone)
        #expect(result.status == .fail)
        #expect(result.finding.contains("not the relay's key"))
        #expect(result.fix?.value == Fixture.dkimRecord)
    }

    @Test func revokedWrongTypeNotAKeyAndTesting() throws {
        var revoked = Zone()
        revoked.txt(Self.name, "v=DKIM1; p=")
        #expect(try Self.check(revoked).finding.contains("revoked"))

        var ed25519 = Zone()
        ed25519.txt(Self.name, "v=DKIM1; k=ed25519; p=\(Fixture.key)")
        #expect(try Self.check(ed25519).finding.contains("k=ed25519"))

        var text = Zone()
        text.txt(Self.name, "hello world")
        #expect(try Self.check(text).finding.contains("not a DKIM key record"))

        var duplicateTag = Zone()
        duplicateTag.txt(Self.name, "v=DKIM1; p=\(Fixture.key); p=\(Fixture.key)")
        #expect(try Self.check(duplicateTag).status == .fail)

        var testing = Zone()
        testing.txt(Self.name, "v=DKIM1; t=y; p=\(Fixture.key)")
        #expect(try Self.check(testing).status == .warn)

        var two = Zone()
        two.txt(Self.name, Fixture.dkimRecord)
        two.txt(Self.name, "v=DKIM1; p=MIIBOLD")
        #expect(try Self.check(two).status == .warn)
        #expect(try Self.check(two).fix == nil)
    }

    @Test func selectorProblems() {
        #expect(Self.selector.problem == nil)
        #expect(DKIMSelector(selector: "bad selector", record: Fixture.dkimRecord).problem != nil)
        #expect(DKIMSelector(selector: "s1", record: "v=DKIM1; k=rsa").problem != nil)
        #expect(DKIMSelector(selector: "2024.mail", record: "p=abc").problem == nil)
    }

    @Test func tagLists() {
        #expect(TagList(parsing: " v = DKIM1 ;p=abc; ")?["p"] == "abc")
        #expect(TagList(parsing: "v=DKIM1; v=DKIM1") == nil)
        #expect(TagList(parsing: "v=DKIM1; novalue") == nil)
        #expect(TagList(parsing: "v=DMARC1; p=none")?.firstName == "v")
        #expect(TagList(parsing: "")?.tags.isEmpty == true)
    }
}
