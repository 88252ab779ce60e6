import Foundation
import Testing

@testable import MessageComposer

@Suite struct HeaderTests {
    func error(_ draft: MessageDraft) -> CompositionError? {
        do {
            _ = try MessageComposer.compose(draft)
            return nil
        } catch {
            return error
        }
    }

    @Test func writesTheFieldsAndNeverBcc() throws {
        var draft = Fixture.draft()
        draft.cc = [NameAddress(name: "Doe, John", address: "john@example.org")]
        draft.replyTo = [NameAddress(address: "replies@example.com")]
        let message = try MessageComposer.compose(draft)
        #expect(Fixture.header("From", in: message) == "Alice <alice@example.com>")
        #expect(Fixture.header("To", in: message) == "bob@example.net")
        #expect(Fixture.header("Cc", in: message) == #""Doe, John" <john@example.org>"#)
        #expect(Fixture.header("Reply-To", in: message) == "replies@example.com")
        #expect(Fixture.header("Message-ID", in: message) == "<id-1@example.com>")
        #expect(Fixture.header("MIME-Version", in: message) == "1.0")
        #expect(Fixture.header("Date", in: message) == "Sun, 06 Dec 2026 20:06:13 +0000")
        #expect(Fixture.header("Bcc", in: message) == nil)
    }

    @Test func addressListsFoldBetweenMailboxes() throws {
        let to = (0..<20).map { NameAddress(name: "Person \($0)", address: "person\($0)@example.net") }
        let message = try MessageComposer.compose(Fixture.draft(to: to))
        let lines = try #require(Fixture.lines(message))
        #expect(lines.allSatisfy { $0.count <= 78 })
        let value = try #require(Fixture.header("To", in: message))
        #expect(value.components(separatedBy: ", ").count == 20)
        #expect(value.hasPrefix("Person 0 <person0@example.net>, Person 1 <person1@example.net>"))
    }

    @Test func localPartsThatAreNotDotAtomsAreQuoted() throws {
        let message = try MessageComposer.compose(Fixture.draft(to: [NameAddress(address: "taro..yamada.@docomo.ne.jp")]))
        #expect(Fixture.header("To", in: message) == #""taro..yamada."@docomo.ne.jp"#)
        let utf8 = try MessageComposer.compose(Fixture.draft(to: [NameAddress(address: "山田@例え.jp")]))
        #expect(Fixture.header("To", in: utf8) == "山田@例え.jp")
    }

    @Test(arguments: ["bob", "a@b@c", "a b@c", "<a@b>", "@b", "a@", "a@b\r\nBcc: x@y", "a@(b)", "a\u{3000}b@c"])
    func invalidAddressesNameTheField(address: String) {
        let draft = Fixture.draft(to: [NameAddress(address: "ok@example.net"), NameAddress(address: address)])
        #expect(error(draft)?.field == "to[1].address")
    }

    @Test func lineBreaksAreRefusedEverywhereInHeaders() {
        var subject = Fixture.draft(subject: "Hi\r\nBcc: victim@example.net")
        #expect(error(subject)?.field == "subject")
        subject.subject = "Hi\nthere"
        #expect(error(subject)?.field == "subject")

        var name = Fixture.draft()
        name.from.name = "Alice\rBcc: x@example.net"
        #expect(error(name)?.field == "from.name")

        var custom = Fixture.draft()
        custom.headers = [("X-Ok", "fine"), ("X-Tag", "a\r\nBcc: victim@example.net")]
        #expect(error(custom)?.field == "headers[1].value")
        #expect(error(custom)?.message.contains("CR or LF") == true)

        var date = Fixture.draft()
        date.date = "Sun, 06 Dec 2026\r\nBcc: x"
        #expect(error(date)?.field == "date")
        var id = Fixture.draft()
        id.messageID = "a@b>\r\nBcc: <x"
        #expect(error(id)?.field == "messageID")
    }

    @Test(arguments: [
        "From", "to", "CC", "bcc", "Subject", "DATE", "Message-Id", "mime-version", "Content-Type",
        "content-transfer-encoding", "Content-Disposition", "Received", "Return-Path", "DKIM-Signature", "Reply-To",
    ])
    func reservedFieldNamesAreRefused(name: String) {
        var draft = Fixture.draft()
        draft.headers = [("X-Ok", "1"), (name, "value")]
        #expect(error(draft)?.field == "headers[1].name")
    }

    @Test(arguments: ["", "X Tag", "X-Tag:", "X-\u{E9}", "X-\u{7F}", String(repeating: "X", count: 77)])
    func fieldNamesMustBeFtext(name: String) {
        var draft = Fixture.draft()
        draft.headers = [(name, "value")]
        #expect(error(draft)?.field == "headers[0].name")
    }

    @Test func customFieldsAreKeptInOrderAndEncodedWhenNotASCII() throws {
        var draft = Fixture.draft()
        draft.headers = [("X-Campaign", "夏のセール"), ("List-Unsubscribe", "<https://example.com/u?id=42>")]
        let message = try MessageComposer.compose(draft)
        let names = Fixture.headers(message).map(\.name)
        #expect(names.firstIndex(of: "X-Campaign")! < names.firstIndex(of: "List-Unsubscribe")!)
        #expect(Fixture.header("List-Unsubscribe", in: message) == "<https://example.com/u?id=42>")
        let value = try #require(Fixture.header("X-Campaign", in: message))
        let word = try #require(Fixture.decodeWord(value))
        #expect(String(decoding: word.bytes, as: UTF8.self) == "夏のセール")
    }

    @Test func emojiInISO2022JPIsRefusedNamingTheField() {
        var subject = Fixture.draft(subject: "ご案内 😀", charset: .iso2022jp)
        #expect(error(subject)?.field == "subject")
        #expect(error(subject)?.message.contains("U+1F600") == true)
        subject.subject = "ご案内"
        #expect(error(subject) == nil)

        #expect(error(Fixture.draft(text: "本文 🍣\n", charset: .iso2022jp))?.field == "text")
        #expect(error(Fixture.draft(text: nil, html: "<p>🍣</p>", charset: .iso2022jp))?.field == "html")
        #expect(
            error(Fixture.draft(charset: .iso2022jp, to: [NameAddress(name: "山田🍣", address: "y@example.jp")]))?.field
                == "to[0].name")
        var custom = Fixture.draft(charset: .iso2022jp)
        custom.headers = [("X-Note", "🍣")]
        #expect(error(custom)?.field == "headers[0].value")
    }

    @Test func asciiThatLooksEncodedIsEncodedSoItReadsBackLiterally() throws {
        let message = try MessageComposer.compose(Fixture.draft(subject: "about =?UTF-8?B?QQ==?= words"))
        let words = try #require(Fixture.header("Subject", in: message)).split(separator: " ")
        let decoded = words.compactMap { Fixture.decodeWord(String($0)) }.flatMap(\.bytes)
        #expect(words.allSatisfy { Fixture.decodeWord(String($0)) != nil })
        #expect(String(decoding: decoded, as: UTF8.self) == "about =?UTF-8?B?QQ==?= words")
    }

    @Test func theFirstLineLeavesRoomForTheFieldName() throws {
        var draft = Fixture.draft(subject: String(repeating: "あ", count: 40))
        draft.from.name = String(repeating: "山", count: 40)
        draft.replyTo = [NameAddress(name: String(repeating: "x", count: 70), address: "r@example.com")]
        draft.headers = [("X-A-Rather-Long-Field-Name", String(repeating: "い", count: 40))]
        let lines = try #require(Fixture.lines(try MessageComposer.compose(draft)))
        #expect(lines.allSatisfy { $0.count <= 78 })
    }

    @Test func unfoldableCustomValuesAreRefused() {
        var draft = Fixture.draft()
        draft.headers = [("X-Token", String(repeating: "a", count: 901))]
        #expect(error(draft)?.field == "headers[0].value")
        draft.headers = [("X-Token", String(repeating: "a", count: 900))]
        #expect(error(draft) == nil)
    }

    @Test func attachmentFieldsRefuseLineBreaks() {
        var draft = Fixture.draft(html: "<p>x</p>")
        draft.attachments = [Attachment(filename: "a.pdf\r\nBcc: x@y", contentType: "application/pdf", content: [])]
        #expect(error(draft)?.field == "attachments[0].filename")
        draft.attachments = [Attachment(filename: "a.png", contentType: "image/png", content: [], contentID: "a>\r\nX: <b")]
        #expect(error(draft)?.field == "attachments[0].contentID")
    }
}
