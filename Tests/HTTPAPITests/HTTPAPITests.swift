import Foundation
import NIOCore
import Testing

@testable import HTTPAPI

/// The API's pure parts: request decoding and its errors, the document, the helpers.
struct HTTPAPITests {
    static func decode<T: Decodable>(_ json: String) throws(APIError) -> T {
        try decodeJSON(ByteBuffer(string: json))
    }

    @Test func aStructuredMessageDecodesWithEveryAddressForm() throws {
        let request: SendMessageRequest = try Self.decode(
            #"{"from": {"email": "a@example.com", "name": "山田"}, "to": "b@example.net", "cc": ["c@example.net", {"email": "d@example.net"}], "subject": "s", "text": "t", "headers": {"X-B": "2", "X-A": "1"}}"#
        )
        #expect(request.from?.name == "山田")
        #expect(request.to.map(\.mailbox.description) == ["b@example.net"])
        #expect(request.cc.map(\.mailbox.description) == ["c@example.net", "d@example.net"])
        #expect(request.headers.map(\.name) == ["X-A", "X-B"], "sorted, so the rendering does not depend on JSON order")
        let envelope = try APISubmission.envelope(of: request)
        #expect(envelope.recipients.map(\.description) == ["b@example.net", "c@example.net", "d@example.net"])
    }

    @Test(arguments: [
        (#"{"from": "a@example.com", "to": "nope", "text": "t"}"#, 422, "to"),
        (#"{"from": "a@example.com", "to": ["b@example.net", 5], "text": "t"}"#, 422, "to[1]"),
        (#"{"from": "a@example.com", "to": "b@example.net", "text": "t", "colour": "red"}"#, 422, "colour"),
        (#"{"from": {"email": "a@example.com", "nmae": "x"}, "to": "b@example.net", "text": "t"}"#, 422, "from.nmae"),
        (
            #"{"from": "a@example.com", "to": "b@example.net", "attachments": [{"filename": "a.pdf", "content": "!!"}]}"#, 422,
            "attachments[0].content"
        ),
        (#"{"from": "a@example.com", "to": "b@example.net", "text": true}"#, 422, "text"),
        (#"[1, 2"#, 400, ""),
    ])
    func badRequestsNameTheirField(json: String, status: Int, field: String) {
        do {
            let _: SendMessageRequest = try Self.decode(json)
            Issue.record("decoded \(json)")
        } catch {
            #expect(Int(error.status.code) == status, "\(error)")
            #expect(error.message.hasPrefix(field), "\(error.message)")
        }
    }

    @Test func aBatchTakesTheTemplateBesidePersonalizationsAndNothingElse() throws {
        let batch: BatchRequest = try Self.decode(
            #"{"from": "a@example.com", "subject": "Hi {{n}}", "personalizations": [{"to": "b@example.net", "variables": {"n": "Bo"}}]}"#)
        let templates = try BatchSubmission.Templates(batch.template)
        let message = try templates.render(batch.template, for: batch.personalizations[0])
        #expect(message.subject == "Hi Bo")
        #expect(throws: APIError.self) {
            let _: BatchRequest = try Self.decode(#"{"from": "a@example.com", "to": "x@example.net", "personalizations": []}"#)
        }
    }

    @Test func templatesEscapeHTMLOnlyInHTMLAndKeepHeadersOnOneLine() throws {
        var template = SendMessageRequest()
        template.subject = "{{v}}"
        template.text = "{{v}}"
        template.html = "<p>{{v}}</p>"
        template.headers = [HeaderField(name: "X-V", value: "{{v}}")]
        let item: BatchRequest.Personalization = try Self.decode(
            #"{"to": "b@example.net", "variables": {"v": "<b>\r\nBcc: x@evil.example"}}"#)
        let message = try BatchSubmission.Templates(template).render(template, for: item)
        #expect(message.text == "<b>\r\nBcc: x@evil.example")
        #expect(message.html == "<p>&lt;b&gt;\r\nBcc: x@evil.example</p>")
        #expect(message.subject == "<b>  Bcc: x@evil.example")
        #expect(message.headers[0].value == "<b>  Bcc: x@evil.example")
    }

    @Test func rawMessagesGetCRLFLineEnds() {
        #expect(APISubmission.withCRLF("a\nb\r\nc\rd") == Array("a\r\nb\r\nc\r\nd".utf8))
        #expect(APISubmission.withCRLF("x\r") == Array("x\r\n".utf8))
    }

    @Test func bearerTokensAndTimes() throws {
        #expect(APIKeyAuthenticator.bearerToken("Bearer hk_a_b") == "hk_a_b")
        #expect(APIKeyAuthenticator.bearerToken("bearer  hk_a_b ") == "hk_a_b")
        #expect(APIKeyAuthenticator.bearerToken("Basic abc") == nil)
        #expect(APIKeyAuthenticator.bearerToken("Bearer a\u{7F}b") == nil)
        #expect(try ReadHandlers.timestamp("2026-12-06T10:00:00Z", field: "since") == "2026-12-06T10:00:00.000Z")
        #expect(try ReadHandlers.timestamp("2026-12-06T10:00:00.5Z", field: "since") == "2026-12-06T10:00:00.500Z")
        #expect(throws: APIError.self) { try ReadHandlers.timestamp("yesterday", field: "since") }
        #expect(ReadHandlers.isStreamID("1796588565313-0") && !ReadHandlers.isStreamID("1-x"))
    }

    /// The document is JSON, OpenAPI 3.1, and lists every route the server has.
    @Test func theOpenAPIDocumentDescribesEveryRoute() throws {
        let object = try JSONSerialization.jsonObject(with: Data(OpenAPIDocument.json)) as? [String: Any]
        #expect(object?["openapi"] as? String == "3.1.0")
        let paths = Set((object?["paths"] as? [String: Any] ?? [:]).keys)
        #expect(
            paths == [
                "/v1/messages", "/v1/messages/batch", "/v1/messages/{id}", "/v1/events", "/v1/webhooks", "/v1/webhooks/{id}", "/readyz",
                "/v1/suppressions", "/v1/suppressions/{address}", "/v1/stats", "/v1/campaigns", "/v1/campaigns/{id}",
                "/v1/campaigns/{id}/{action}",
            ])
    }

    /// The totals' rates are the console's, and null (not 0, not NaN) with nothing to divide by.
    @Test func statsTotalsCarryRatesOrNull() throws {
        func encoded(_ counts: StatsHandler.Counts) throws -> [String: Any] {
            try JSONSerialization.jsonObject(with: Data(try encodeJSON(StatsHandler.Totals(counts: counts)))) as? [String: Any] ?? [:]
        }
        let empty = try encoded(.init())
        #expect(empty["delivery_rate"] is NSNull && empty["bounce_rate"] is NSNull && empty["complaint_rate"] is NSNull)
        #expect(empty["accepted"] as? Int == 0 && empty["bounced_by_class"] as? [String: Int] == [:])
        var counts = StatsHandler.Counts()
        (counts.delivered, counts.bounced, counts.expired, counts.complaints) = (6, 1, 1, 3)
        let some = try encoded(counts)
        #expect(some["delivery_rate"] as? Double == 0.75 && some["bounce_rate"] as? Double == 0.25)
        #expect(some["complaint_rate"] as? Double == 0.5)
    }
}
