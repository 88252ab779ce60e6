import Testing

@testable import Campaigns

struct ContentCheckTests {
    static func codes(_ input: ContentChecks.Input) -> [String] { ContentChecks.run(input).map(\.code) }

    static let text = String(repeating: "Our December newsletter has news about the shop. ", count: 8)

    @Test func cleanCampaignPasses() {
        let input = ContentChecks.Input(
            html: "<p>\(Self.text)</p><img src=\"https://shop.example/a.png\" alt=\"sale\">", text: nil, fromDomain: "shop.example",
            unsubscribeConfigured: true, hasDKIMKey: true)
        #expect(ContentChecks.run(input).isEmpty)
    }

    @Test func missingUnsubscribeAndDKIMAreErrors() {
        let findings = ContentChecks.run(
            .init(html: nil, text: Self.text, fromDomain: "shop.example", unsubscribeConfigured: false, hasDKIMKey: false))
        #expect(findings.map(\.code) == ["no_unsubscribe", "no_dkim"])
        #expect(findings.allSatisfy { $0.severity == .error })
        #expect(ContentChecks.refuses(findings))
        #expect(findings[1].fix.contains("shop.example"))
    }

    @Test func shortenersAreWarnings() {
        let findings = ContentChecks.run(
            .init(
                html: "<p>\(Self.text) <a href=\"https://bit.ly/abc\">x</a> <a href='http://T.CO/x'>y</a></p>",
                text: "see https://tinyurl.com:443/y and https://shop.example/ok", fromDomain: "shop.example",
                unsubscribeConfigured: true, hasDKIMKey: true))
        #expect(findings.map(\.code) == ["url_shortener"])
        #expect(findings[0].problem.contains("bit.ly, t.co, tinyurl.com"))
        #expect(!ContentChecks.refuses(findings))
    }

    @Test func largeHTMLAndImageOnlyMailAreWarnings() {
        let big = "<p>" + String(repeating: "a", count: 103 * 1024) + "</p>"
        #expect(
            Self.codes(.init(html: big, text: nil, fromDomain: "d.example", unsubscribeConfigured: true, hasDKIMKey: true)) == [
                "html_too_large"
            ])
        let images = "<a href=\"https://shop.example\"><img src=\"https://shop.example/banner.png\"></a><img src=\"x.png\"><p>Sale!</p>"
        #expect(
            Self.codes(.init(html: images, text: nil, fromDomain: "d.example", unsubscribeConfigured: true, hasDKIMKey: true)) == [
                "mostly_images"
            ])
    }
}
