import Foundation
import RelayCore
import SMTPProtocol
import Secrets
import Testing
import Unsubscribe

@testable import BounceListener

/// `u-<token>@<unsubscribe_mailto_domain>` at RCPT: accepted when the token verifies, the
/// same 550 as an unknown address otherwise (RFC 2369 mailto form).
@Suite struct UnsubscribeRecipientTests {
    static let domain = "unsub.example.com"
    static let now = WallClock.nowMilliseconds()

    /// A key file in a fresh directory (mode 0600, as `hikyaku secrets generate-key` writes it).
    static func keyFile() throws -> String {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("hk-unsub-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let path = directory + "/secrets.key"
        _ = try SecretKeyFile.generate(path: path, append: false)
        return path
    }

    static func remove(_ keyFile: String) {
        try? FileManager.default.removeItem(at: URL(fileURLWithPath: keyFile).deletingLastPathComponent())
    }

    static func links(_ path: String) throws -> UnsubscribeLinks {
        var settings = CampaignSettings()
        settings.unsubscribeBaseURL = "https://mail.example.com"
        settings.unsubscribeMailtoDomain = domain.uppercased()
        return try #require(UnsubscribeLinks(settings: settings, keyringFile: try KeyringFile(path: path)))
    }

    static func classify(
        _ local: String, _ domain: String = domain, links: UnsubscribeLinks?
    ) -> Result<InboundRecipient, InboundRecipient.Refusal> {
        InboundRecipient.classify(
            Mailbox(localPart: local, domain: domain), keyring: nil, feedbackLoopAddresses: [], unsubscribe: links, nowMilliseconds: now)
    }

    @Test func aTokenThatVerifiesIsAcceptedInAnyCaseAndNothingElse() throws {
        let path = try Self.keyFile()
        defer { Self.remove(path) }
        let links = try Self.links(path)
        let token = UnsubscribeToken(account: "acme", recipient: "taro@example.jp", campaign: "c1", nowMilliseconds: Self.now)
        let local = "u-" + links.signer.token(token)
        #expect(Self.classify(local, links: links) == .success(.unsubscribe(token)))
        #expect(Self.classify(local.uppercased(), links: links) == .success(.unsubscribe(token)))
        let forged = String(local.dropLast()) + (local.hasSuffix("a") ? "b" : "a")
        #expect(Self.classify(forged, links: links) == .failure(.invalidToken))
        #expect(Self.classify(local, "other.example.com", links: links) == .failure(.unknownRecipient))
        #expect(Self.classify(local, links: nil) == .failure(.unknownRecipient))
        var old = token
        old.issuedDay -= 200
        #expect(Self.classify("u-" + links.signer.token(old), links: links) == .failure(.invalidToken))
    }

    @Test func aKeyAddedOnAnotherNodeIsReadFromTheFile() throws {
        let path = try Self.keyFile()
        defer { Self.remove(path) }
        let links = try Self.links(path)
        _ = try SecretKeyFile.generate(path: path, append: true)
        // Another node, started after the rotation, signs with the new key.
        let rotated = UnsubscribeSigner(keyring: try SecretKeyFile.load(path: path), validity: .days(180))
        let token = UnsubscribeToken(account: "acme", recipient: "a@b.jp", nowMilliseconds: Self.now)
        #expect(throws: UnsubscribeError.unknownKey) { try links.signer.verify(rotated.token(token), nowMilliseconds: Self.now) }
        #expect(try links.verify(rotated.token(token), nowMilliseconds: Self.now) == token)
        // Now loaded here too: the new key signs this node's links.
        #expect(links.signer.token(token) == rotated.token(token))
    }
}
