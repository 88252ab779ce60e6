import Foundation
import Testing

@testable import DKIM

struct DKIMSignerTests {
    static let message = bytes(
        "From: Alice <alice@example.com>\r\n"
            + "To: bob@example.net\r\n"
            + "Subject: Hello\r\n"
            + "X-Mailer: not signed\r\n"
            + "Date: Thu, 1 Jan 2026 00:00:00 +0000\r\n"
            + "Message-ID: <1@example.com>\r\n"
            + "\r\n"
            + "Hello Bob.\r\n")

    static let ed25519 = try! DKIMPrivateKey(pem: KeyFixtures.rfc8463Ed25519)

    @Test func theFieldCarriesTheTagsOfRelaxedRelaxedSigning() throws {
        let signer = try DKIMSigner(domain: "example.com", selector: "hk1", key: Self.ed25519)
        let field = try signer.sign(Self.message, time: 1_767_225_600)
        #expect(field.hasPrefix("DKIM-Signature: v=1; a=ed25519-sha256; c=relaxed/relaxed; d=example.com;"))
        #expect(field.hasSuffix("\r\n"))
        let tags = tags(of: field)
        #expect(tags["v"] == "1")
        #expect(tags["a"] == "ed25519-sha256")
        #expect(tags["c"] == "relaxed/relaxed")
        #expect(tags["d"] == "example.com")
        #expect(tags["s"] == "hk1")
        #expect(tags["t"] == "1767225600")
        #expect(tags["bh"] == LibCrypto.base64(try SHA256Hasher.hash(bytes("Hello Bob.\r\n"))))
        #expect(Data(base64Encoded: tags["b"] ?? "")?.count == 64)
    }

    @Test func signedHeadersArePresentOnesInListOrderWithFromOnceMore() throws {
        let signer = try DKIMSigner(domain: "example.com", selector: "hk1", key: Self.ed25519)
        let field = try signer.sign(Self.message, time: 1)
        #expect(tags(of: field)["h"] == "From:From:To:Subject:Date:Message-ID")
    }

    @Test func everyInstanceOfARepeatedFieldIsSigned() throws {
        let message = bytes("To: a@example.net\r\nFrom: x@example.com\r\nTo: b@example.net\r\n\r\nbody\r\n")
        let signer = try DKIMSigner(domain: "example.com", selector: "hk1", key: Self.ed25519, headers: ["from", "to"])
        #expect(tags(of: try signer.sign(message, time: 1))["h"] == "from:from:to:to")
    }

    /// RFC 6376 §5.4.2: instances are taken from the bottom up, and a name listed more
    /// often than the field occurs signs nothing more.
    @Test func fieldsAreSelectedFromTheBottomUp() throws {
        let message = bytes("To: 1\r\nX: a\r\nTo: 2\r\nFrom: f\r\n\r\n")
        let selected = try message.withUnsafeBufferPointer { buffer -> [String] in
            let section = try HeaderSection.parse(buffer)
            let names = ["to", "from", "to", "to", "from", "x"].map { Array($0.utf8) }
            return section.fields(signedBy: names, in: buffer).map { text(Array(message[$0.start..<$0.end])) }
        }
        #expect(selected == ["To: 2", "From: f", "To: 1", "X: a"])
    }

    @Test func theFieldIsFoldedIntoShortLines() throws {
        // Every default header present, twice for To: a long h= that must fold.
        var header = ""
        for name in DKIMSigner.defaultHeaders { header += "\(name): value of \(name)\r\n" }
        header += "To: second@example.net\r\n"
        let signer = try DKIMSigner(domain: "mail.example.com", selector: "hikyaku-2026-01", key: try DKIMPrivateKey.generate(.rsaSHA256))
        let field = try signer.sign(bytes(header + "\r\nbody\r\n"), time: 1_767_225_600)
        #expect(field.hasSuffix("\r\n"))
        let lines = field.dropLast(2).components(separatedBy: "\r\n")
        #expect(lines.count > 5)
        for (index, line) in lines.enumerated() {
            #expect(line.utf8.count < 78, "line \(index) is \(line.utf8.count) characters: \(line)")
            #expect(index == 0 || line.hasPrefix(" "), "continuation line \(index) must start with SP")
            #expect(!line.trimmingCharacters(in: .whitespaces).isEmpty, "line \(index) is blank")
        }
        #expect(lines.contains { $0.hasPrefix(" b=") }, "b= starts its own line")
        let signed = (tags(of: field)["h"] ?? "").split(separator: ":").map(String.init)
        #expect(signed.count == DKIMSigner.defaultHeaders.count + 2)
        #expect(signed.filter { $0 == "From" }.count == 2)
        #expect(signed.filter { $0 == "To" }.count == 2)
    }

    /// RFC 8463 Appendix A signs its example message with the Appendix A.2 key; Ed25519 is
    /// deterministic, so the same header hash input must give the very same b= — which
    /// pins down both the relaxed header canonicalization (with h= naming absent instances
    /// and the RFC's own folding) and that Ed25519 signs SHA-256 of the input (RFC 8463 §3).
    @Test func ed25519ReproducesRFC8463AppendixA() throws {
        let key = try DKIMPrivateKey(pem: KeyFixtures.rfc8463Ed25519)
        #expect(key.dnsRecord() == "v=DKIM1; k=ed25519; p=\(KeyFixtures.rfc8463Ed25519PublicKey)")
        let message = bytes(
            "From: Joe SixPack <joe@football.example.com>\r\n"
                + "To: Suzie Q <suzie@shopping.example.net>\r\n"
                + "Subject: Is dinner ready?\r\n"
                + "Date: Fri, 11 Jul 2003 21:00:37 -0700 (PDT)\r\n"
                + "Message-ID: <20030712040037.46341.5F8J@football.example.com>\r\n"
                + "\r\n"
                + "Hi.\r\n\r\nWe lost the game.  Are you hungry yet?\r\n\r\nJoe.\r\n")
        let signatureField =
            "DKIM-Signature: v=1; a=ed25519-sha256; c=relaxed/relaxed;\r\n"
            + " d=football.example.com; i=@football.example.com;\r\n"
            + " q=dns/txt; s=brisbane; t=1528637909; h=from : to :\r\n"
            + " subject : date : message-id : from : subject : date;\r\n"
            + " bh=2jUSOH9NhtVGCQWNr9BrIAPreKQjO6Sn7XIkfJVOzv8=;\r\n"
            + " b="
        let names = ["from", "to", "subject", "date", "message-id", "from", "subject", "date"].map { Array($0.utf8) }
        let input = try message.withUnsafeBufferPointer { buffer in
            let section = try HeaderSection.parse(buffer)
            let body = UnsafeBufferPointer(rebasing: buffer[section.bodyStart...])
            #expect(LibCrypto.base64(try DKIMSigner.bodyHash(body)) == "2jUSOH9NhtVGCQWNr9BrIAPreKQjO6Sn7XIkfJVOzv8=")
            return try DKIMSigner.headerHashInput(
                signing: section.fields(signedBy: names, in: buffer), of: buffer, signatureField: bytes(signatureField))
        }
        #expect(
            text(input).hasSuffix(
                "dkim-signature:v=1; a=ed25519-sha256; c=relaxed/relaxed; d=football.example.com; "
                    + "i=@football.example.com; q=dns/txt; s=brisbane; t=1528637909; h=from : to : subject : date : message-id : "
                    + "from : subject : date; bh=2jUSOH9NhtVGCQWNr9BrIAPreKQjO6Sn7XIkfJVOzv8=; b="))
        #expect(
            LibCrypto.base64(try key.signature(over: input))
                == "/gCrinpcQOoIfuHNQIbq4pgh9kyIK3AQUdt9OdqQehSwhEIug4D11BusFa3bT3FY5OsU7ZbnKELq+eXdp1Q1Dw==")
    }

    @Test func aMessageWithoutFromCannotBeSigned() throws {
        let signer = try DKIMSigner(domain: "example.com", selector: "hk1", key: Self.ed25519)
        let error = try #require(throws: DKIMError.self) {
            try signer.sign(bytes("To: bob@example.net\r\nSubject: x\r\n\r\nbody\r\n"), time: 1)
        }
        #expect(error.code == .noFromHeader)
        #expect(error.detail.contains("no From"))
    }

    @Test func aMessageWithTwoFromsIsRefused() throws {
        let signer = try DKIMSigner(domain: "example.com", selector: "hk1", key: Self.ed25519)
        let error = try #require(throws: DKIMError.self) {
            try signer.sign(bytes("From: a@example.com\r\nfrom: b@example.com\r\n\r\nbody\r\n"), time: 1)
        }
        #expect(error.code == .multipleFromHeaders)
    }

    @Test func aMalformedHeaderIsRefused() throws {
        let signer = try DKIMSigner(domain: "example.com", selector: "hk1", key: Self.ed25519)
        #expect(throws: DKIMError(.malformedHeader, "")) {
            try signer.sign(bytes("From: a@example.com\nSubject: x\n\nbody\n"), time: 1)
        }
    }

    @Test func signingBorrowedBytesGivesTheSameField() throws {
        let signer = try DKIMSigner(domain: "example.com", selector: "hk1", key: Self.ed25519)
        let fromArray = try signer.sign(Self.message, time: 7)
        let fromRaw = try Self.message.withUnsafeBytes { try signer.sign($0, time: 7) }
        #expect(fromArray == fromRaw)
    }

    @Test(arguments: [
        ("exa mple.com", "hk1", "letters, digits, hyphens"),
        ("example.com.", "hk1", "empty label"),
        ("", "hk1", "empty"),
        ("-example.com", "hk1", "hyphen"),
        ("exämple.com", "hk1", "xn--"),
        ("example.com", "", "selector"),
        ("example.com", "a;b", "selector"),
        ("example.com", String(repeating: "a", count: 64), "63"),
    ])
    func invalidDomainsAndSelectorsAreRefused(domain: String, selector: String, detail: String) throws {
        let error = try #require(throws: DKIMError.self) {
            try DKIMSigner(domain: domain, selector: selector, key: Self.ed25519)
        }
        #expect(error.code == .invalidConfiguration)
        #expect(error.detail.contains(detail), "\(error.detail)")
    }

    @Test func theHeaderListMustSignFromAndHoldFieldNames() throws {
        let withoutFrom = try #require(throws: DKIMError.self) {
            try DKIMSigner(domain: "example.com", selector: "s", key: Self.ed25519, headers: ["To", "Subject"])
        }
        #expect(withoutFrom.code == .invalidConfiguration)
        #expect(withoutFrom.detail.contains("From"))
        #expect(throws: DKIMError(.invalidConfiguration, "")) {
            try DKIMSigner(domain: "example.com", selector: "s", key: Self.ed25519, headers: ["From", "X:Y"])
        }
        let signer = try DKIMSigner(domain: "example.com", selector: "s", key: Self.ed25519, headers: ["From", "to", "TO", "From"])
        #expect(signer.headers == ["From", "to"])
    }
}
