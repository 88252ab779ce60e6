import NIOCore
import SMTPProtocol
import Testing

@Suite("SMTPServerStateMachine: recipients checked by the handler (suppression lists)")
struct ServerRecipientCheckTests {
    static func session(suppressed: Set<String>) -> WireSession {
        var configuration = Configs.allowListed()
        configuration.checksRecipients = true
        var session = WireSession(configuration)
        session.suppressed = suppressed
        return session
    }

    @Test func refusedRecipientIsLeftOutAndOthersGoOn() {
        var session = Self.session(suppressed: ["gone@example.org"])
        session.feed(
            bytes("EHLO c\r\nMAIL FROM:<a@example.com>\r\nRCPT TO:<gone@example.org>\r\nRCPT TO:<b@example.org>\r\nDATA\r\nx\r\n.\r\n"))
        #expect(session.codes == [220, 250, 250, 550, 250, 354, 250])
        #expect(session.replies[3].text == "<gone@example.org> suppressed")
        #expect(session.messages.first?.transaction.recipients.map(\.description) == ["<b@example.org>"])
    }

    @Test func everyRecipientRefusedMeansNoValidRecipients() {
        var session = Self.session(suppressed: ["gone@example.org"])
        session.feed(bytes("EHLO c\r\nMAIL FROM:<a@example.com>\r\nRCPT TO:<gone@example.org>\r\nDATA\r\n"))
        #expect(session.codes == [220, 250, 250, 550, 554])
        #expect(session.messages.isEmpty)
    }

    @Test func notAskedWhenTheCheckIsOff() {
        var session = WireSession(Configs.allowListed())
        session.suppressed = ["gone@example.org"]
        session.feed(bytes("EHLO c\r\nMAIL FROM:<a@example.com>\r\nRCPT TO:<gone@example.org>\r\n"))
        #expect(session.codes == [220, 250, 250, 250])
    }

    @Test func aCheckWithoutAskingIsMisuse() {
        var machine = SMTPServerStateMachine(configuration: Configs.allowListed(), isTLS: false)
        _ = machine.greeting()
        guard case .replyAndClose = machine.recipientChecked(refusal: nil) else {
            Issue.record("expected the misuse reply")
            return
        }
    }
}
