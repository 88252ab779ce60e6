import Foundation
import ProcessSpawn
import Testing

@testable import MessageComposer

/// End to end: Python's email package (an independent MIME and RFC 2047 implementation)
/// reads the composed bytes back to what the draft said.
@Suite struct PythonReaderTests {
    static let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("parse_message.py")

    struct Reading: Decodable {
        struct Part: Decodable {
            var filename: String
            /// Content-Type's `name=`, for clients that predate RFC 2231.
            var name: String?
            var contentType: String
            var disposition: String
            var contentID: String?
            var content: String
        }
        var subject: String
        var subjectDecodeHeader: String
        var from: [[String]]
        var fromDecodeHeader: String
        var to: [[String]]
        var cc: [[String]]
        var replyTo: [[String]]
        var messageID: String
        var custom: String?
        var text: String?
        var html: String?
        var structure: [String]
        var attachments: [Part]
        var defects: [String]
    }

    static func read(_ message: [UInt8]) async throws -> Reading {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("composed-\(UUID().uuidString).eml").path
        try Data(message).write(to: URL(fileURLWithPath: path))
        defer { try? FileManager.default.removeItem(atPath: path) }
        let output = try await Subprocess.run(["python3", script.path, path])
        try #require(output.status == 0, "parse_message.py failed: \(output.standardError)")
        return try JSONDecoder().decode(Reading.self, from: Data(output.standardOutput.utf8))
    }

    static let subject = "日本語の件名テスト：請求書の送付と来月の打ち合わせ日程についてのご案内（株式会社山田商事 営業部）"
    static let text = "山田太郎様\n\nいつもお世話になっております。\n請求書を添付いたしますので、ご確認ください。\n\nよろしくお願いいたします。\n"
    static let html = "<p>山田太郎様</p>\n<p>請求書を添付いたします。<img src=\"cid:logo@example.jp\"></p>\n"
    static let pdf = Array("%PDF-1.4\n".utf8) + (0..<2000).map { UInt8(($0 * 7) % 256) }
    static let logo: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 1, 2, 3]

    @Test(arguments: [BodyCharset.utf8, .iso2022jp])
    func aJapaneseMessageReadsBackExactly(charset: BodyCharset) async throws {
        let draft = MessageDraft(
            from: NameAddress(name: "山田太郎", address: "taro@example.jp"),
            to: [NameAddress(name: "佐藤花子", address: "hanako@example.jp"), NameAddress(address: "keiri@example.co.jp")],
            cc: [NameAddress(name: "Suzuki, Ichiro", address: "ichiro@example.jp")],
            replyTo: [NameAddress(name: "山田商事 営業部", address: "sales@example.jp")], subject: Self.subject, text: Self.text,
            html: Self.html, headers: [("X-Campaign", "年末のご挨拶 2026")],
            attachments: [
                Attachment(filename: "請求書.pdf", contentType: "application/pdf", content: Self.pdf),
                Attachment(filename: "logo.png", contentType: "image/png", content: Self.logo, contentID: "logo@example.jp"),
            ],
            charset: charset, messageID: "20261206.abc@example.jp", date: "Sun, 06 Dec 2026 20:06:13 +0900")
        let message = try MessageComposer.compose(draft)
        #expect(try #require(Fixture.lines(message)).allSatisfy { $0.count <= 78 })
        let reading = try await Self.read(message)

        #expect(reading.subject == Self.subject)
        #expect(reading.subjectDecodeHeader == Self.subject)
        #expect(reading.from == [["山田太郎", "taro@example.jp"]])
        #expect(reading.fromDecodeHeader == "山田太郎 <taro@example.jp>")
        #expect(reading.to == [["佐藤花子", "hanako@example.jp"], ["", "keiri@example.co.jp"]])
        #expect(reading.cc == [["Suzuki, Ichiro", "ichiro@example.jp"]])
        #expect(reading.replyTo == [["山田商事 営業部", "sales@example.jp"]])
        #expect(reading.messageID == "<20261206.abc@example.jp>")
        #expect(reading.custom == "年末のご挨拶 2026")
        #expect(reading.text == Self.text)
        #expect(reading.html == Self.html)
        #expect(
            reading.structure == [
                "multipart/mixed", "multipart/alternative", "text/plain", "multipart/related", "text/html", "image/png",
                "application/pdf",
            ])
        #expect(reading.attachments.count == 2)
        let pdf = try #require(reading.attachments.first { $0.contentType == "application/pdf" })
        #expect(pdf.filename == "請求書.pdf")
        #expect(pdf.name == "請求書.pdf")
        #expect(pdf.disposition == "attachment")
        #expect(Data(base64Encoded: pdf.content).map(Array.init) == Self.pdf)
        let logo = try #require(reading.attachments.first { $0.contentType == "image/png" })
        #expect(logo.disposition == "inline")
        #expect(logo.contentID == "<logo@example.jp>")
        #expect(Data(base64Encoded: logo.content).map(Array.init) == Self.logo)
        // The one deviation, on purpose: `name="=?UTF-8?B?…?="`, the encoded word in a quoted
        // string that RFC 2047 §5 does not sanction but old clients need.
        #expect(
            reading.defects == [
                "Content-Type: encoded word inside quoted string", "Content-Type: missing trailing whitespace after encoded-word",
            ])
    }
}
