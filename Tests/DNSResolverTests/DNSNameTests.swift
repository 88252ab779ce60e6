import Testing

@testable import DNSResolver

@Suite struct DNSNameTests {
    @Test func parsesLabelsWithOrWithoutTrailingDot() throws {
        let name = try DNSName("mx1.Example.com.")
        #expect(name.labels == [Array("mx1".utf8), Array("Example".utf8), Array("com".utf8)])
        #expect(name.description == "mx1.Example.com")
        #expect(try DNSName("mx1.example.com") == name)
        #expect(name.wireLength == 17)
    }

    @Test func rootName() throws {
        #expect(try DNSName(".") == .root)
        #expect(DNSName.root.isRoot)
        #expect(DNSName.root.description == ".")
        #expect(DNSName.root.wireLength == 1)
    }

    @Test func comparesAndHashesCaseInsensitively() throws {
        let lower = try DNSName("xn--bcher-kva.example")
        let upper = try DNSName("XN--BCHER-KVA.EXAMPLE")
        #expect(lower == upper)
        #expect(Set([lower, upper]).count == 1)
        #expect(try DNSName("a.example") != DNSName("b.example"))
        #expect(try DNSName("a.example") != DNSName("a.example.com"))
    }

    @Test func acceptsSixtyThreeOctetLabelsAndRejectsSixtyFour() throws {
        let label63 = String(repeating: "a", count: 63)
        #expect(try DNSName("\(label63).example").labels[0].count == 63)
        let error = #expect(throws: DNSError.self) { try DNSName("\(String(repeating: "a", count: 64)).example") }
        #expect(error?.code == .invalidName)
        #expect(error?.isPermanent == true)
        #expect(error?.description.contains("64 octets") == true)
    }

    @Test func accepts253OctetNamesAndRejects254() throws {
        // 3 × 63 + 61 octets of labels and 3 dots = 253.
        let label = String(repeating: "b", count: 63)
        let name253 = [label, label, label, String(repeating: "c", count: 61)].joined(separator: ".")
        #expect(name253.utf8.count == 253)
        #expect(try DNSName(name253).wireLength == 255)
        #expect(try DNSName(name253 + ".").wireLength == 255)
        let error = #expect(throws: DNSError.self) { try DNSName(name253 + "c") }
        #expect(error?.code == .invalidName)
    }

    @Test(arguments: ["", "a..b", ".example", "exa mple.com", "bücher.example", "tab\t.example"])
    func rejectsMalformedNames(text: String) {
        let error = #expect(throws: DNSError.self) { try DNSName(text) }
        #expect(error?.code == .invalidName)
    }

    @Test func nonASCIIErrorPointsToALabels() {
        let error = #expect(throws: DNSError.self) { try DNSName("bücher.example") }
        #expect(error?.detail.contains("A-labels") == true)
    }

    @Test func describesUnusualOctetsWithEscapes() {
        let name = DNSName(uncheckedLabels: [[0x61, 0x2E, 0x20], Array("example".utf8)])
        #expect(name.description == "a\\046\\032.example")
    }
}
