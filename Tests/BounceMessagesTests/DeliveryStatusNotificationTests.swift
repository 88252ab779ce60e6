import RelayCore
import Testing

@testable import BounceMessages

let originalHeader = Array(
    """
    Received: from app.acme.example ([192.0.2.7])\r
    \tby relay.example (Hikyaku) with ESMTPSA id 01JDQ3T6Z8F0M4X2KP\r
    \tfor <nobody@example.net>; Sun, 29 Nov 2026 01:02:03 +0000\r
    From: Shop <shop@acme.example>\r
    To: nobody@example.net\r
    Subject: Your order\r
    Message-ID: <order-42@acme.example>\r
    \r
    body that must not be enclosed\r

    """.utf8)

func composed(_ recipients: [DeliveryStatusNotification.Recipient], header: [UInt8] = originalHeader) -> DeliveryStatusNotification {
    DeliveryStatusNotification(
        reportingMTA: "relay.example", originalSender: "shop@acme.example", recipients: recipients, originalHeader: header,
        arrivalDate: 1_796_000_000_000, queueID: QueueID(rawValue: "01JDQ3T6Z8F0M4X2KP"), date: 1_796_000_100_000)
}

@Test func composedDSNRoundTripsThroughTheParser() {
    let dsn = composed([
        .init(
            address: "nobody@example.net", action: .failed, status: "5.1.1",
            diagnostic:
                "550 5.1.1 <nobody@example.net>: Recipient address rejected: User unknown in virtual mailbox table; see https://example.net/help",
            remoteMTA: "mx.example.net", lastAttempt: 1_796_000_050_000),
        .init(address: "later@example.net", action: .delayed, status: "4.4.1"),
    ]).render()
    let recipients = failed(BounceParser.parse(dsn))
    #expect(recipients.map(\.recipient) == ["nobody@example.net", "later@example.net"])
    #expect(recipients[0].status == "5.1.1")
    #expect(recipients[0].action == "failed")
    #expect(recipients[0].remoteMTA == "mx.example.net")
    #expect(
        recipients[0].diagnostic
            == "550 5.1.1 <nobody@example.net>: Recipient address rejected: User unknown in virtual mailbox table; see https://example.net/help"
    )
    #expect(recipients[0].originalMessageID == "order-42@acme.example")
    #expect(recipients[0].originalQueueID == "01JDQ3T6Z8F0M4X2KP")
    #expect(recipients[1].action == "delayed")
    #expect(recipients[1].status == "4.4.1")
}

@Test func composedDSNIsWellFormed() {
    let text = String(decoding: composed([.init(address: "nobody@example.net", action: .failed, status: "5.1.1")]).render(), as: UTF8.self)
    #expect(text.hasPrefix("From: Mail Delivery System <MAILER-DAEMON@relay.example>\r\n"))
    #expect(text.contains("\r\nTo: <shop@acme.example>\r\n"))
    #expect(text.contains("\r\nAuto-Submitted: auto-replied\r\n"))
    #expect(text.contains("\r\nDate: "))
    #expect(text.contains("\r\nMessage-ID: <"))
    #expect(text.contains("\r\nMIME-Version: 1.0\r\n"))
    #expect(text.contains("report-type=delivery-status"))
    #expect(text.contains("\r\nReporting-MTA: dns; relay.example\r\n"))
    #expect(text.contains("\r\nFinal-Recipient: rfc822; nobody@example.net\r\n"))
    #expect(text.contains("Content-Type: text/rfc822-headers"))
    #expect(!text.contains("body that must not be enclosed"))
    // Every line ends in CRLF and stays within RFC 5322's 78-octet recommendation or 998 limit.
    for line in text.split(separator: "\r\n", omittingEmptySubsequences: false) {
        #expect(!line.contains("\n") && !line.contains("\r"))
        #expect(line.utf8.count <= 998)
    }
}

@Test func hostileDiagnosticCannotInjectFields() {
    let dsn = composed([
        .init(
            address: "x@example.net\r\nBcc: victim@example.org", action: .failed, status: "5.0.0",
            diagnostic: "550 bad\r\nFinal-Recipient: rfc822; forged@example.org")
    ]).render()
    let text = String(decoding: dsn, as: UTF8.self)
    #expect(!text.contains("\r\nBcc:"))
    #expect(failed(BounceParser.parse(dsn)).count == 1)
}

@Test func originalHeaderContainingTheBoundaryAndLFLineEnds() {
    let header = Array("Subject: --=_hikyaku-dsn-01JDQ3T6Z8F0M4X2KP\nMessage-ID: <b@acme.example>\n".utf8)
    let dsn = composed([.init(address: "nobody@example.net", action: .failed, status: "5.1.1")], header: header).render()
    let recipients = failed(BounceParser.parse(dsn))
    #expect(recipients.map(\.recipient) == ["nobody@example.net"])
    #expect(recipients.first?.originalMessageID == "b@acme.example")
}
