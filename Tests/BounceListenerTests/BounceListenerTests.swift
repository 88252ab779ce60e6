import BounceMessages
import RelayCore
import ReturnPath
import SMTPProtocol
import Secrets
import Testing

@testable import BounceListener

/// The bounce listener's pure decisions: who is accepted at RCPT, and what a parsed
/// report is acted on as.
@Suite struct InboundRecipientTests {
    static let ring = try! SecretKeyring(keys: [try! SecretKeyring.Key(id: "0a1b2c3d", material: [UInt8](repeating: 7, count: 32))])
    static let other = try! SecretKeyring(keys: [try! SecretKeyring.Key(id: "9f8e7d6c", material: [UInt8](repeating: 9, count: 32))])
    static let id = QueueID(rawValue: "01JDQ3T6Z8F0M4X2KP")
    static let fbl: Set<String> = ["fbl@bounces.example.com"]

    static func classify(
        _ local: String, _ domain: String = "bounces.example.com", keyring: SecretKeyring? = ring
    )
        -> Result<InboundRecipient, InboundRecipient.Refusal>
    {
        InboundRecipient.classify(Mailbox(localPart: local, domain: domain), keyring: keyring, feedbackLoopAddresses: fbl)
    }

    static func token(index: Int = 2) throws -> String {
        try VERPToken(queueID: id, recipientIndex: index, account: "acme").encode(keyring: ring)
    }

    @Test func aReturnPathWhoseTokenVerifiesIsAcceptedInAnyCase() throws {
        let local = try Self.token()
        for form in [local, local.uppercased()] {
            guard case .success(.returnPath(let token)) = Self.classify(form) else {
                Issue.record("\(form) refused")
                continue
            }
            #expect(token.queueID == Self.id && token.recipientIndex == 2 && token.matches(account: "acme"))
        }
    }

    @Test func aForgedOrForeignTokenIsRefused() throws {
        let local = try Self.token()
        let flipped = String(local.dropLast()) + (local.last == "a" ? "b" : "a")
        #expect(Self.classify(flipped) == .failure(.invalidToken))
        #expect(Self.classify(local, keyring: Self.other) == .failure(.invalidToken))
        #expect(Self.classify(local, keyring: nil) == .failure(.invalidToken))
        #expect(Self.classify("b-" + String(repeating: "a", count: 40)) == .failure(.invalidToken))
    }

    @Test func postmasterAbuseAndFeedbackLoopAddressesAreAcceptedOthersAreNot() {
        #expect(Self.classify("postmaster", "anything.example") == .success(.postmaster))
        #expect(Self.classify("PostMaster") == .success(.postmaster))
        #expect(Self.classify("abuse") == .success(.abuse))
        #expect(Self.classify("FBL", "Bounces.Example.com") == .success(.feedbackLoop))
        #expect(Self.classify("fbl", "other.example") == .failure(.unknownRecipient))
        #expect(Self.classify("info") == .failure(.unknownRecipient))
        #expect(Self.classify("bounce-me") == .failure(.unknownRecipient))
    }
}

@Suite struct ParsedReportTests {
    static func failed(
        _ recipient: String?, action: String? = "failed", queueID: String? = nil, messageID: String? = nil
    )
        -> FailedRecipient
    {
        var failure = FailedRecipient(recipient: recipient, status: "5.1.1", diagnostic: "smtp; 550 5.1.1 unknown", action: action)
        failure.originalQueueID = queueID
        failure.originalMessageID = messageID
        return failure
    }

    @Test func failuresAreActedOnAndDelayWarningsAreNot() {
        let mixed = ParsedReport(.deliveryStatus([Self.failed("a@x.example"), Self.failed("b@x.example", action: "delayed")]))
        guard case .failures(let failures) = mixed.body else {
            Issue.record("\(mixed.body)")
            return
        }
        #expect(failures.map(\.recipient) == ["a@x.example"] && mixed.metricKind == "dsn")
        let delay = ParsedReport(.deliveryStatus([Self.failed("b@x.example", action: "delayed")]))
        guard case .ignored = delay.body else {
            Issue.record("a delay warning was acted on")
            return
        }
        #expect(delay.metricKind == "delay")
    }

    @Test func aBounceNamingNoAddressStillCountsForTheTokensRecipient() {
        let report = ParsedReport(.deliveryStatus([]))
        guard case .failures(let failures) = report.body else {
            Issue.record("\(report.body)")
            return
        }
        #expect(failures.count == 1 && failures[0].recipient == nil)
    }

    @Test func theQueueIDComesFromTheEnclosedHeadersOrARelayMadeMessageID() {
        #expect(
            ParsedReport(.deliveryStatus([Self.failed("a@x", queueID: "01JDQ3T6Z8F0M4X2KP")])).originalQueueID?.rawValue
                == "01JDQ3T6Z8F0M4X2KP")
        #expect(ParsedReport.queueID(nil, "<01JDQ3T6Z8F0M4X2KP@relay.example>")?.rawValue == "01JDQ3T6Z8F0M4X2KP")
        #expect(ParsedReport.queueID(nil, "<abc@relay.example>") == nil)
        #expect(ParsedReport.queueID("not-an-id", nil) == nil)
        #expect(ParsedReport(.autoReply).originalQueueID == nil)
    }
}
