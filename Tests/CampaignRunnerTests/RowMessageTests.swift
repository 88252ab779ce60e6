import Campaigns
import Foundation
import RelayCore
import Testing

@testable import CampaignRunner

/// One row's message as the runner composes it, before the intake signs it.
struct RowMessageTests {
    static func message() throws -> RowMessage {
        let campaign = Campaign(
            id: "c0123456789ab", account: "acme", name: "Dec", fromAddress: "news@acme.example", fromName: "ACME ニュース",
            subject: "{{氏名}}様へ", html: "<p>{{氏名}}様 ({{会社}})</p>", text: nil, list: "members", startAt: 0, createdAt: 0)
        return RowMessage(
            campaign: campaign, templates: try CampaignTemplates(subject: campaign.subject, html: campaign.html, text: nil),
            columns: ["email", "氏名", "会社"], emailIndex: 0, hostname: "relay.example")
    }

    @Test func composesTheRowWithItsHeadersAndDerivedMessageID() throws {
        let stored = #"["taro@docomo.ne.jp","山田","㈱サンプル①"]"#
        let unsubscribe = [
            (name: "List-Unsubscribe", value: "<https://mail.acme.example/u/TOKEN>"),
            (name: "List-Unsubscribe-Post", value: "List-Unsubscribe=One-Click"),
        ]
        let message = try Self.message()
        #expect(try message.email(stored: stored) == "taro@docomo.ne.jp")
        let composed = try message.compose(row: 41, stored: stored, unsubscribe: unsubscribe)
        let text = String(decoding: composed.bytes, as: UTF8.self)
        #expect(composed.email == "taro@docomo.ne.jp")
        #expect(text.contains("Message-ID: <c0123456789ab.41@relay.example>\r\n"))
        #expect(text.contains("List-Unsubscribe: <https://mail.acme.example/u/TOKEN>\r\n"))
        #expect(text.contains("List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n"))
        #expect(text.contains("To: taro@docomo.ne.jp\r\n") || text.contains("To: <taro@docomo.ne.jp>\r\n"))
        #expect(text.contains("multipart/alternative"))  // the text part made from the HTML
        #expect(CampaignRunner.domain(of: stored, emailIndex: 0)?.rawValue == "docomo.ne.jp")
    }

    @Test func aRowThatDoesNotFitTheColumnsIsRefused() throws {
        let message = try Self.message()
        #expect(throws: RowMessage.Problem.self) { try message.compose(row: 0, stored: #"["a@b.jp","x"]"#, unsubscribe: nil) }
        #expect(throws: RowMessage.Problem.self) { try message.email(stored: "not json") }
        #expect(CampaignRunner.domain(of: "not json", emailIndex: 0) == nil)
    }
}
