import BounceMessages
import Logging
import NIOCore
import RelayCore
import SMTPProtocol
import Testing

@testable import Delivery
@testable import Queue

/// What a DSN to the sender says (the composing; enqueueing is covered end to end in
/// Tests/integration/test_bounces.py).
@Suite struct SenderNotifierTests {
    static func message(
        notify: Bool = true, sender: ReversePath = .mailbox(Mailbox(localPart: "app", domain: "acme.example"))
    )
        -> StoredMessage
    {
        var message = StoredMessage(
            queueID: QueueID(rawValue: "01JDQ3T6Z8F0M4X2KP"), sender: sender, account: "acme", messageID: "<m1@acme.example>",
            acceptedAt: 1_700_000_000_000,
            body: ByteBuffer(string: "Received: from a\r\nSubject: hello\r\nMessage-ID: <m1@acme.example>\r\n\r\nsecret body\r\n"))
        message.notifySender = notify
        return message
    }

    static func event(_ kind: DeliveryEvent.Kind, _ recipient: String, _ reply: String?) -> DeliveryEvent {
        var event = DeliveryEvent(event: kind, time: "", queueID: "01JDQ3T6Z8F0M4X2KP", messageID: nil, sender: "app@acme.example")
        event.recipient = recipient
        event.reply = reply
        return event
    }

    @Test func listsOnlyBouncedAndExpiredRecipientsWithTheirStatus() throws {
        let events = [
            Self.event(.delivered, "ok@x.example", "250 2.0.0 Ok"),
            Self.event(.bounced, "gone@x.example", "550 5.1.1 <gone@x.example>: user unknown"),
            Self.event(.expired, "slow@y.example", "421 try later (gave up after 5d)"),
            Self.event(.deferred, "later@y.example", "451 4.7.1 greylisted"),
        ]
        let report = try #require(
            SenderNotifier.compose(for: Self.message(), events: events, hostname: "relay.example", now: 1_700_000_100_000))
        #expect(report.message.sender == .null)
        #expect(report.message.recipients.map(\.description) == ["app@acme.example"])
        let text = String(decoding: report.bytes, as: UTF8.self)
        #expect(text.contains("Final-Recipient: rfc822; gone@x.example") && text.contains("Status: 5.1.1"))
        #expect(text.contains("Final-Recipient: rfc822; slow@y.example") && text.contains("Status: 4.4.7"))
        #expect(!text.contains("ok@x.example") && !text.contains("later@y.example"))
        #expect(text.contains("Subject: hello") && !text.contains("secret body"))
        guard case .deliveryStatus(let found) = BounceParser.parse(report.bytes) else {
            Issue.record("the composed DSN does not parse as one")
            return
        }
        #expect(found.map(\.recipient) == ["gone@x.example", "slow@y.example"])
    }

    @Test func nothingWithoutTheFlagAFailureOrASender() {
        let bounced = [Self.event(.bounced, "gone@x.example", "550 5.1.1 unknown")]
        #expect(SenderNotifier.compose(for: Self.message(notify: false), events: bounced, hostname: "h", now: 0) == nil)
        #expect(
            SenderNotifier.compose(for: Self.message(), events: [Self.event(.delivered, "a@x", "250 ok")], hostname: "h", now: 0) == nil)
        #expect(SenderNotifier.compose(for: Self.message(sender: .null), events: bounced, hostname: "h", now: 0) == nil)
    }

    @Test func statusComesFromTheReplyElseFromTheKind() {
        #expect(SenderNotifier.status(of: Self.event(.bounced, "a@x", "550-5.7.26 Unauthenticated")) == "5.7.26")
        #expect(SenderNotifier.status(of: Self.event(.bounced, "a@x", "550 No such user")) == "5.0.0")
        #expect(SenderNotifier.status(of: Self.event(.expired, "a@x", nil)) == "4.4.7")
    }

    @Test func theHeaderSectionEndsAtTheFirstEmptyLine() {
        #expect(SenderNotifier.headerSection(of: ByteBuffer(string: "A: 1\r\nB: 2\r\n\r\nbody")) == Array("A: 1\r\nB: 2\r\n".utf8))
        #expect(SenderNotifier.headerSection(of: ByteBuffer(string: "A: 1\nB: 2\n\nbody")) == Array("A: 1\nB: 2\n".utf8))
        #expect(SenderNotifier.headerSection(of: ByteBuffer(string: "A: 1")) == Array("A: 1".utf8))
    }
}

/// Which bounces put their address on the account's suppression list.
@Suite struct BounceSuppressorTests {
    static func bounce(_ bounceClass: BounceClass, _ type: BounceSeverity, account: String? = "acme") -> DeliveryEvent {
        var event = DeliveryEvent(event: .bounced, time: "", queueID: "01JDQ3T6Z8F0M4X2KP", messageID: nil, sender: "a@acme.example")
        event.recipient = "gone@x.example"
        event.account = account
        event.bounceClass = bounceClass
        event.bounceType = type
        return event
    }

    @Test func onlyHardInvalidRecipientBouncesOfAnAccount() {
        #expect(BounceSuppressor.applies(to: Self.bounce(.invalidRecipient, .hard)))
        #expect(!BounceSuppressor.applies(to: Self.bounce(.invalidRecipient, .soft)))
        #expect(!BounceSuppressor.applies(to: Self.bounce(.ipReputation, .hard)))
        #expect(!BounceSuppressor.applies(to: Self.bounce(.contentBlock, .hard)))
        #expect(!BounceSuppressor.applies(to: Self.bounce(.invalidRecipient, .hard, account: nil)))
        var deferred = Self.bounce(.invalidRecipient, .hard)
        deferred.event = .deferred
        #expect(!BounceSuppressor.applies(to: deferred))
    }

    @Test func entriesCarryReasonSourceAndTheConfiguredExpiry() throws {
        var settings = SuppressionSettings()
        settings.expiry[.hardBounce] = .days(365)
        let entries = BounceSuppressor.entries(
            for: [Self.bounce(.invalidRecipient, .hard), Self.bounce(.ipReputation, .hard)], settings: settings,
            now: 1_700_000_000_000)
        let list = try #require(entries["acme"])
        #expect(list.count == 1)
        #expect(list[0].address == "gone@x.example" && list[0].reason == .hardBounce && list[0].source == "01JDQ3T6Z8F0M4X2KP")
        #expect(list[0].expiresAt == WallClock.iso8601(milliseconds: 1_700_000_000_000 + 365 * 86_400_000))
    }
}
