import NIOCore
import RelayCore
import SMTPProtocol
import Secrets
import Testing
import Unsubscribe

@testable import Ingest

/// `X-Hikyaku-Unsubscribe: one-click` in the header section becomes the recipient's
/// `List-Unsubscribe` fields in its place, or a refusal at the dot.
struct UnsubscribeRequestTests {
    static let received = "Received: from x ([127.0.0.1])\r\n\tby relay (Hikyaku) with ESMTP id Q; date\r\n"
    static let signer = UnsubscribeSigner(
        keyring: try! SecretKeyring(keys: [SecretKeyring.Key(id: "0a1b2c3d", material: [UInt8](repeating: 7, count: 32))]),
        validity: .days(60))
    static let token = UnsubscribeToken(account: "acme", recipient: "taro@example.jp", issuedDay: 20_000)

    static var list: ListUnsubscribe {
        var settings = CampaignSettings()
        settings.unsubscribeBaseURL = "https://mail.example.com"
        settings.unsubscribeMailtoDomain = "bounces.example.com"
        return ListUnsubscribe(settings: settings, signer: signer)
    }

    func assemble(_ parts: [String], _ request: UnsubscribeRequest) -> (String, SMTPReply?) {
        var assembler = MessageAssembler(receivedHeader: Self.received, generatedMessageID: "<gen@relay>", unsubscribe: request)
        var out = ""
        for part in parts {
            assembler.append(ByteBuffer(string: part))
            if assembler.canFlush { out += String(buffer: assembler.takePending()) }
        }
        assembler.finish()
        out += String(buffer: assembler.canFlush ? assembler.takePending() : assembler.pending)
        return (out, assembler.unsubscribeRefusal)
    }

    @Test func theFieldIsReplacedInPlaceByTheTwoFields() throws {
        let fields = try #require(Self.list.fieldText(for: Self.token))
        let (out, refusal) = assemble(
            [
                "Subject: hi\r\nX-Hikyaku-Unsub",
                "scribe:\r\n  One-Click\r\nMessage-ID: <a@b>\r\n\r\nbody\r\nX-Hikyaku-Unsubscribe: one-click\r\n",
            ],
            .available(Self.list, Self.token))
        #expect(refusal == nil)
        #expect(out == Self.received + "Subject: hi\r\n" + fields + "Message-ID: <a@b>\r\n\r\nbody\r\nX-Hikyaku-Unsubscribe: one-click\r\n")
        let text = Self.signer.token(Self.token)
        #expect(
            fields
                == "List-Unsubscribe: <https://mail.example.com/u/\(text)>,\r\n <mailto:u-\(text)@bounces.example.com>\r\n"
                + "List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n")
    }

    @Test func withAGeneratedMessageIDBothAreWritten() throws {
        let fields = try #require(Self.list.fieldText(for: Self.token))
        let (out, _) = assemble(["X-Hikyaku-Unsubscribe: one-click\r\nSubject: s\r\n\r\nb\r\n"], .available(Self.list, Self.token))
        #expect(out == Self.received + "Message-ID: <gen@relay>\r\n" + fields + "Subject: s\r\n\r\nb\r\n")
    }

    @Test func withoutTheFieldNothingChanges() {
        let (out, refusal) = assemble(["Message-ID: <a@b>\r\n\r\nb\r\n"], .unavailable(UnsubscribeRequest.severalRecipients))
        #expect(out == Self.received + "Message-ID: <a@b>\r\n\r\nb\r\n")
        #expect(refusal == nil)
    }

    @Test(arguments: [
        (
            "X-Hikyaku-Unsubscribe: one-click\r\n", UnsubscribeRequest.unavailable(UnsubscribeRequest.severalRecipients),
            "exactly one recipient"
        ),
        ("X-Hikyaku-Unsubscribe: one-click\r\n", UnsubscribeRequest.unavailable(UnsubscribeRequest.noAccount), "account"),
        ("X-Hikyaku-Unsubscribe: yes\r\n", UnsubscribeRequest.available(list, token), "only value"),
        ("List-Unsubscribe: <mailto:x@y>\r\nX-Hikyaku-Unsubscribe: one-click\r\n", UnsubscribeRequest.available(list, token), "both"),
    ])
    func whatCannotBeHonouredIsRefusedAtTheDot(field: String, request: UnsubscribeRequest, words: String) throws {
        let (_, refusal) = assemble(["Message-ID: <a@b>\r\n" + field + "\r\nb\r\n"], request)
        let reply = try #require(refusal)
        #expect(reply.code == 550 && reply.enhancedStatus?.description == "5.6.0" && reply.text.contains(words), "\(reply)")
    }
}
