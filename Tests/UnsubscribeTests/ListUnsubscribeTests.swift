import RelayCore
import Secrets
import Testing

@testable import Unsubscribe

@Suite struct ListUnsubscribeTests {
    static let signer = UnsubscribeSigner(
        keyring: try! SecretKeyring(keys: [SecretKeyring.Key(id: "0a1b2c3d", material: [UInt8](repeating: 1, count: 32))]),
        validity: .days(180))
    static let now: Int64 = 1_796_644_800_000

    static func settings(base: String? = "https://mail.example.com", mailto: String? = "bounces.example.com") -> CampaignSettings {
        var settings = CampaignSettings()
        settings.unsubscribeBaseURL = base
        settings.unsubscribeMailtoDomain = mailto
        return settings
    }

    static func token(_ recipient: String, campaign: String? = "c42") -> UnsubscribeToken {
        UnsubscribeToken(account: "acme", recipient: recipient, campaign: campaign, nowMilliseconds: now)
    }

    @Test func bothFormsForAShortToken() throws {
        let token = Self.token("taro@docomo.ne.jp")
        let headers = try #require(ListUnsubscribe(settings: Self.settings(), signer: Self.signer).headers(for: token))
        let text = Self.signer.token(token)
        #expect(headers.map(\.name) == ["List-Unsubscribe", "List-Unsubscribe-Post"])
        #expect(headers[0].value == "<https://mail.example.com/u/\(text)>, <mailto:u-\(text)@bounces.example.com>")
        #expect(headers[1].value == "List-Unsubscribe=One-Click")
        // RFC 5321 §4.5.3.1.1: the local part of the mailto form has at most 64 octets.
        #expect(("u-" + text).utf8.count <= 64)
        let local = try #require(ListUnsubscribe.token(ofLocalPart: "U-" + text.uppercased()))
        #expect(try Self.signer.verify(local, nowMilliseconds: Self.now) == token)
    }

    @Test func theLongestTokenThatFitsAndTheFirstThatDoesNot() throws {
        let list = ListUnsubscribe(settings: Self.settings(), signer: Self.signer)
        // 25 bytes of texts without a campaign: account (4) + recipient (21).
        let fits = try #require(list.headers(for: Self.token("abcdefghijklm@exam.jp", campaign: nil)))
        #expect(fits[0].value.contains("mailto:u-"))
        let longer = try #require(list.headers(for: Self.token("abcdefghijklmn@exam.jp", campaign: nil)))
        #expect(!longer[0].value.contains("mailto:"))
        #expect(longer[0].value.hasPrefix("<https://mail.example.com/u/"))
        #expect(longer[1].value == "List-Unsubscribe=One-Click")
    }

    @Test func noMailtoDomainMeansTheHTTPSFormOnly() throws {
        let headers = try #require(
            ListUnsubscribe(settings: Self.settings(mailto: nil), signer: Self.signer).headers(for: Self.token("a@b.jp")))
        #expect(headers[0].value == "<https://mail.example.com/u/\(Self.signer.token(Self.token("a@b.jp")))>")
    }

    @Test func noBaseURLMeansNoHeaders() {
        #expect(ListUnsubscribe(settings: Self.settings(base: nil), signer: Self.signer).headers(for: Self.token("a@b.jp")) == nil)
    }

    @Test func theLongestAddressStaysWithinALine() throws {
        let recipient = String(repeating: "r", count: 64) + "@" + String(repeating: "d", count: 189)
        let token = UnsubscribeToken(
            account: String(repeating: "a", count: 64), recipient: recipient, campaign: String(repeating: "c", count: 64), issuedDay: 20_000
        )
        let headers = try #require(ListUnsubscribe(settings: Self.settings(), signer: Self.signer).headers(for: token))
        // RFC 5322 §2.1.1: at most 998 characters a line, field name included.
        #expect("List-Unsubscribe: ".utf8.count + headers[0].value.utf8.count <= 998)
    }

    @Test(arguments: ["", "u-", "b-abc", "postmaster", "u" + String(repeating: "a", count: 64)])
    func otherLocalPartsAreNotUnsubscribeAddresses(local: String) {
        #expect(ListUnsubscribe.token(ofLocalPart: local) == nil)
    }
}

@Suite struct UnsubscribePageTests {
    @Test(arguments: [
        (nil, UnsubscribePage.Language.ja), ("ja", .ja), ("en-US,en;q=0.9", .en), ("en;q=0.5, ja;q=0.8", .ja), ("fr, en;q=0.2", .en),
        ("ja;q=0, en", .en), ("de", .ja), ("JA-jp", .ja),
    ])
    func theLanguageComesFromAcceptLanguage(header: String?, language: UnsubscribePage.Language) {
        #expect(UnsubscribePage.Language(acceptLanguage: header) == language)
    }

    @Test func theConfirmationPagePostsToItselfAndEscapesTheAddress() {
        let token = UnsubscribeToken(account: "acme", recipient: "\"<script>\"@example.jp", issuedDay: 20_000)
        let page = UnsubscribePage.confirm(token, language: .en)
        #expect(page.contains("<form method=\"post\" action=\"\">"))
        #expect(page.contains("name=\"List-Unsubscribe\" value=\"One-Click\""))
        #expect(!page.contains("<script>") && page.contains("&quot;&lt;script&gt;&quot;@example.jp"))
        #expect(UnsubscribePage.confirm(token, language: .ja).contains("配信を停止する"))
        #expect(!UnsubscribePage.done(token, language: .en).contains("<form"))
    }
}
