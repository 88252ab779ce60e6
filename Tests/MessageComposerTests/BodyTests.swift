import Foundation
import Testing

@testable import MessageComposer

@Suite struct BodyTests {
    func contentTypes(_ message: [UInt8]) -> [String] {
        String(decoding: message, as: UTF8.self).replacingOccurrences(of: "\r\n ", with: " ").components(separatedBy: "\r\n")
            .filter { $0.lowercased().hasPrefix("content-type:") }
            .map { String($0.dropFirst("Content-Type: ".count).prefix { $0 != ";" }) }
    }

    @Test func shortASCIITextIs7bitWithCRLFLines() throws {
        let message = try MessageComposer.compose(Fixture.draft(text: "one\ntwo\r\nthree\rfour\n"))
        #expect(Fixture.header("Content-Type", in: message) == "text/plain; charset=UTF-8")
        #expect(Fixture.header("Content-Transfer-Encoding", in: message) == "7bit")
        #expect(String(decoding: message, as: UTF8.self).hasSuffix("\r\n\r\none\r\ntwo\r\nthree\r\nfour\r\n"))
    }

    @Test func nonASCIITextIsBase64() throws {
        let message = try MessageComposer.compose(Fixture.draft(text: "こんにちは\n"))
        #expect(Fixture.header("Content-Transfer-Encoding", in: message) == "base64")
        let body = String(decoding: message, as: UTF8.self).components(separatedBy: "\r\n\r\n")[1]
        let data = try #require(Data(base64Encoded: body.replacingOccurrences(of: "\r\n", with: "")))
        #expect(String(decoding: data, as: UTF8.self) == "こんにちは\r\n")
    }

    @Test(arguments: [BodyCharset.utf8, .iso2022jp])
    func aLongSingleLineBodyKeepsEveryLineWithin998Octets(charset: BodyCharset) throws {
        let line = String(repeating: "x", count: 100_000)
        let message = try MessageComposer.compose(
            Fixture.draft(subject: String(repeating: "y", count: 2_000), text: line, charset: charset))
        let lines = try #require(Fixture.lines(message))
        #expect(lines.allSatisfy { $0.count <= 998 })
        #expect(lines.allSatisfy { $0.count <= 78 })
        #expect(Fixture.header("Content-Transfer-Encoding", in: message) == "base64")
    }

    @Test func iso2022jpTextIs7bitAndEachLineReturnsToASCII() throws {
        let message = try MessageComposer.compose(Fixture.draft(text: "日本語\nABC 漢字\n", charset: .iso2022jp))
        #expect(Fixture.header("Content-Type", in: message) == "text/plain; charset=ISO-2022-JP")
        #expect(Fixture.header("Content-Transfer-Encoding", in: message) == "7bit")
        let body = Array(String(decoding: message, as: UTF8.self).components(separatedBy: "\r\n\r\n")[1].utf8)
        #expect(body.allSatisfy { $0 < 0x80 })
        for line in try #require(Fixture.lines(body)) where line.contains(0x1B) {
            #expect(Array(line.suffix(3)) == [0x1B, UInt8(ascii: "("), UInt8(ascii: "B")])
        }
    }

    @Test func theMIMEStructureFollowsTheParts() throws {
        #expect(contentTypes(try MessageComposer.compose(Fixture.draft(text: nil, html: "<p>x</p>"))) == ["text/html"])
        #expect(
            contentTypes(try MessageComposer.compose(Fixture.draft(html: "<p>x</p>")))
                == ["multipart/alternative", "text/plain", "text/html"])
        var draft = Fixture.draft(html: #"<img src="cid:logo@example.com">"#)
        draft.attachments = [
            Attachment(filename: "a.txt", contentType: "text/plain", content: Array("a".utf8)),
            Attachment(filename: "logo.png", contentType: "image/png", content: [0x89, 0x50], contentID: "logo@example.com"),
        ]
        #expect(
            contentTypes(try MessageComposer.compose(draft)) == [
                "multipart/mixed", "multipart/alternative", "text/plain", "multipart/related", "text/html", "image/png",
                "text/plain",
            ])
        #expect(throws: CompositionError(field: "text", message: "a message needs text or html")) {
            _ = try MessageComposer.compose(Fixture.draft(text: nil))
        }
    }

    @Test func inlineAttachmentsWithoutHTMLStayInMixed() throws {
        var draft = Fixture.draft()
        draft.attachments = [Attachment(filename: "logo.png", contentType: "image/png", content: [1], contentID: "logo@x")]
        let message = try MessageComposer.compose(draft)
        #expect(contentTypes(message) == ["multipart/mixed", "text/plain", "image/png"])
        #expect(String(decoding: message, as: UTF8.self).contains("Content-Disposition: inline; filename=\"logo.png\"\r\n"))
    }

    @Test func theBoundaryIsNeverInTheContent() throws {
        var probe = SeededGenerator(state: 7)
        let first = try MIMEPart.boundary(avoiding: [], using: &probe)
        var generator = SeededGenerator(state: 7)
        let message = try MessageComposer.compose(Fixture.draft(text: "--\(first)\n", html: "<p>\(first)</p>"), using: &generator)
        let contentType = try #require(Fixture.header("Content-Type", in: message))
        #expect(contentType.hasPrefix("multipart/alternative; boundary=\"=_hk_"))
        #expect(!contentType.contains(first))
    }

    @Test func attachmentsAreBase64In76CharacterLines() throws {
        var draft = Fixture.draft()
        let content = (0..<3000).map { UInt8($0 % 256) }
        draft.attachments = [Attachment(filename: "data.bin", contentType: "application/octet-stream", content: content)]
        let text = String(decoding: try MessageComposer.compose(draft), as: UTF8.self)
        let part = try #require(text.components(separatedBy: "filename=\"data.bin\"\r\n").last)
        let encoded = part.components(separatedBy: "\r\n\r\n")[1].components(separatedBy: "\r\n--")[0]
        let lines = encoded.components(separatedBy: "\r\n").filter { !$0.isEmpty }
        #expect(lines.dropLast().allSatisfy { $0.count == 76 })
        #expect(Data(base64Encoded: lines.joined()).map(Array.init) == content)
    }

    @Test func longNonASCIIFilenamesUseRFC2231Continuations() throws {
        var draft = Fixture.draft()
        let name = String(repeating: "請求書", count: 10) + ".pdf"
        draft.attachments = [Attachment(filename: name, contentType: "application/pdf", content: [1])]
        let message = try MessageComposer.compose(draft)
        #expect(try #require(Fixture.lines(message)).allSatisfy { $0.count <= 78 })
        let text = String(decoding: message, as: UTF8.self)
        #expect(text.contains("Content-Disposition: attachment;\r\n filename*0*=UTF-8''%E8%AB%8B%E6%B1%82%E6%9B%B8"))
        #expect(text.contains("\r\n filename*1*=%E8%AB%8B"))
    }

    @Test(arguments: ["", "text", "text/", "text/plain; charset=utf-8", "multipart/mixed", "message/rfc822"])
    func invalidContentTypesAreRefused(type: String) {
        var draft = Fixture.draft()
        draft.attachments = [Attachment(filename: "a", contentType: type, content: [])]
        #expect(throws: CompositionError.self) { try MessageComposer.compose(draft) }
        do {
            _ = try MessageComposer.compose(draft)
        } catch {
            #expect(error.field == "attachments[0].contentType")
        }
    }
}
