import Testing

@testable import BounceMessages

/// The parser reads what anyone may send to the bounce listener: whatever the bytes, it
/// answers, within its limits.
@Test func truncatedReportStillReadsWhatIsThere() {
    // Cut in the middle of the second recipient's group, before its Action.
    let bytes = message(postfixDSN)
    let cutAt = String(decoding: bytes, as: UTF8.self).utf8.firstRange(of: "Action: delayed".utf8)!.lowerBound
    let cut = Array(String(decoding: bytes, as: UTF8.self).utf8[..<cutAt])
    let recipients = failed(BounceParser.parse(cut))
    #expect(recipients.map(\.recipient) == ["Nobody@example.net"])
    #expect(recipients.first?.status == "5.1.1")
    #expect(recipients.first?.originalQueueID == nil)
}

@Test func everyPrefixOfAReportParses() {
    let bytes = message(postfixDSN)
    for length in stride(from: 0, through: bytes.count, by: 7) {
        _ = BounceParser.parse(Array(bytes.prefix(length)))
    }
}

@Test func tenThousandPartsAreCapped() {
    var text = "From: someone@x.example\nContent-Type: multipart/mixed; boundary=z\n\n"
    for index in 0..<10_000 { text += "--z\nContent-Type: text/plain\n\npart \(index)\n" }
    text += "--z--\n"
    let entity = MIMEEntity(parsing: message(text, crlf: false)[...])
    #expect(entity.all.count <= MIMEEntity.Limits.maxParts + 1)
    #expect(BounceParser.parse(message(text, crlf: false)) == .unrecognized)
}

@Test func deepNestingIsCapped() {
    var text = ""
    for depth in 0..<5_000 { text += "Content-Type: multipart/mixed; boundary=b\(depth)\n\n--b\(depth)\n" }
    text += "Content-Type: message/delivery-status\n\nFinal-Recipient: rfc822; deep@example.com\nAction: failed\nStatus: 5.1.1\n"
    let entity = MIMEEntity(parsing: message(text, crlf: false)[...])
    var depth = 0
    var current = entity
    while let next = current.parts.first {
        depth += 1
        current = next
    }
    #expect(depth <= MIMEEntity.Limits.maxDepth)
    _ = BounceParser.parse(message(text, crlf: false))
}

@Test func nestedEnclosedMessagesAreCapped() {
    let text = String(repeating: "Content-Type: message/rfc822\n\n", count: 10_000) + "Subject: x\n\nbody\n"
    _ = BounceParser.parse(message(text, crlf: false))
}

@Test func hugeHeaderAndLongLines() {
    let huge = "From: MAILER-DAEMON@x.example\nX-Junk: " + String(repeating: "a", count: 2_000_000) + "\n\nuser unknown\n"
    // The header is read up to 256 KiB; the rest of it, read as body, names no recipient.
    #expect(failed(BounceParser.parse(message(huge, crlf: false))).isEmpty)
    let folded = "Subject: x\n" + String(repeating: " continued\n", count: 200_000) + "\nbody\n"
    _ = BounceParser.parse(message(folded, crlf: false))
    let atSigns = "From: MAILER-DAEMON@x.example\nSubject: Undeliverable\n\nDelivery failed\n" + String(repeating: "@", count: 1_000_000)
    _ = BounceParser.parse(message(atSigns, crlf: false))
}

@Test func binaryJunkAndBadEncodings() {
    var generator = SplitMix(seed: 42)
    for _ in 0..<200 {
        let length = Int(generator.next() % 4096)
        var bytes = (0..<length).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
        _ = BounceParser.parse(bytes)
        bytes =
            message(
                "Content-Type: multipart/report; boundary=q\n\n--q\nContent-Type: message/delivery-status\nContent-Transfer-Encoding: base64\n\n"
            )
            + bytes
        _ = BounceParser.parse(bytes)
    }
    #expect(TransferEncoding.base64(Array("Zm9v!!YmFy=junk".utf8)) == Array("foobar".utf8))
    #expect(TransferEncoding.quotedPrintable(Array("a=3Db=\r\nc=ZZ=4".utf8)) == Array("a=bc=ZZ=4".utf8))
    #expect(TransferEncoding.text([0x66, 0xFF, 0x6F], charset: nil) == "f\u{FF}o")
}

@Test func tooManyRecipientsAreCapped() {
    var text = "Content-Type: multipart/report; report-type=delivery-status; boundary=q\n\n--q\nContent-Type: message/delivery-status\n\n"
    for index in 0..<5_000 { text += "Final-Recipient: rfc822; u\(index)@example.com\nAction: failed\nStatus: 5.1.1\n\n" }
    #expect(failed(BounceParser.parse(message(text, crlf: false))).count == ReportFields.maxRecipients)
}

@Test func missingBoundaryReadsAsText() {
    let text = """
        From: MAILER-DAEMON@mail.example.de
        Subject: failure notice
        Content-Type: multipart/report; boundary="never-used"

        Hi. This is the qmail-send program at mail.example.de.

        <userx@example.de>:
        Sorry, no mailbox here by that name. (#5.1.1)
        """
    #expect(failed(BounceParser.parse(message(text))).map(\.recipient) == ["userx@example.de"])
}

/// A small deterministic generator (the tests must repeat).
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
