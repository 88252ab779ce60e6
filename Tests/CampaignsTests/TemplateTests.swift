import Testing

@testable import Campaigns

struct TemplateTests {
    @Test func rendersColumnsEscapingOnlyHTML() throws {
        let templates = try CampaignTemplates(
            subject: "{{name}}様\r\nBcc: x", html: "<p>こんにちは {{name}} &amp; {{company}}</p>", text: "Hi {{name}} & {{company}}")
        let out = templates.render(["name": "<太郎>", "company": "㈱A&B"])
        #expect(out.subject == "<太郎>様  Bcc: x")  // no header injection: CR LF become spaces
        #expect(out.html == "<p>こんにちは &lt;太郎&gt; &amp; ㈱A&amp;B</p>")
        #expect(out.text == "Hi <太郎> & ㈱A&B")
    }

    @Test func japaneseColumnNamesWork() throws {
        let templates = try CampaignTemplates(
            subject: "{{氏名}}様", html: "<p>{{{会社}}} {{#会社}}({{氏名}}){{/会社}}{{^電話}}なし{{/電話}}{{! コメント }}</p>", text: nil)
        let out = templates.render(["氏名": "山田", "会社": "<㈱A>"])
        #expect(out.subject == "山田様")
        #expect(out.html == "<p><㈱A> (山田)なし</p>")
    }

    @Test func textIsMadeFromHTMLWhenMissing() throws {
        let html = """
            <html><head><style>p { color: red }</style></head><body>
            <h1>December news</h1><p>Dear {{name}},<br>our <a href="https://shop.example/sale">sale</a> starts &amp; ends soon.</p>
            <!-- tracking-free --><ul><li>one</li><li>two</li></ul><script>alert(1)</script></body></html>
            """
        let out = try CampaignTemplates(subject: "s", html: html, text: nil).render(["name": "Hanako"])
        #expect(out.text == "December news\n\nDear Hanako,\nour sale (https://shop.example/sale) starts & ends soon.\n\n- one\n- two\n")
    }

    @Test func refusesBadTemplatesAndNoBody() {
        #expect(throws: TemplateError.self) { try CampaignTemplates(subject: "{{#a}}", html: "x", text: nil) }
        #expect(throws: TemplateError.self) { try CampaignTemplates(subject: "s", html: nil, text: nil) }
    }
}
