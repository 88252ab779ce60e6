import RelayCore
import SMTPProtocol
import Testing

@testable import Delivery
@testable import Queue

/// Which deferrals are retried from the same egress IP, and the wait a reply asks for.
@Suite struct GreylistRetryTests {
    static func remote(_ code: Int, _ text: String) -> RecipientResult {
        RecipientResult(recipient: "a@example.test", remoteReply: SMTPReply(code: code, lines: [text]), remoteHost: nil, remoteIP: nil)
    }

    static func never(_ reply: SMTPReply) -> Bool { false }

    @Test func aTemporaryReplyInTheTransactionPins() {
        #expect(GreylistRetry.pins(Self.remote(451, "4.7.1 Greylisted"), attempt: 1, throttles: Self.never))
        #expect(GreylistRetry.pins(Self.remote(450, "4.2.0 Recipient address rejected: Greylisted"), attempt: 4, throttles: Self.never))
    }

    @Test func otherResultsDoNotPin() {
        // The relay's own failure (no connection): another IP is the better choice.
        let local = RecipientResult(recipient: "a@example.test", kind: .deferred, reply: "451 4.4.1 Could not reach any mail exchanger")
        #expect(!GreylistRetry.pins(local, attempt: 1, throttles: Self.never))
        #expect(!GreylistRetry.pins(Self.remote(421, "4.7.0 closing"), attempt: 1, throttles: Self.never))
        #expect(!GreylistRetry.pins(Self.remote(550, "5.1.1 no such user"), attempt: 1, throttles: Self.never))
        #expect(!GreylistRetry.pins(Self.remote(250, "ok"), attempt: 1, throttles: Self.never))
        // A throttling reply is about the IP's rate.
        #expect(!GreylistRetry.pins(Self.remote(451, "4.7.1 too many messages"), attempt: 1, throttles: { _ in true }))
        // Past the bound the retry may come from any IP.
        #expect(
            !GreylistRetry.pins(Self.remote(451, "4.7.1 Greylisted"), attempt: GreylistRetry.maxPinnedAttempts + 1, throttles: Self.never))
    }

    @Test(
        arguments: [
            ("Greylisted, please try again in 300 seconds", 300_000),
            ("greylisted for 5 minutes", 300_000),
            ("Try again after 60s", 60_000),
            ("please wait 2 min", 120_000),
            ("retry in 0 seconds", 1_000),
            ("try again in 999999 minutes", 1_800_000),
        ] as [(String, Int64)])
    func theWaitTheReplyNamesIsTakenBounded(text: String, wait: Int64) {
        #expect(GreylistRetry.suggestedWait(in: text) == wait)
    }

    @Test(arguments: ["Greylisted, see http://postgrey.schweikert.ch/help/example.com.html", "try later", "in 5 days", "4.7.1 300"])
    func aReplyWithoutAWaitNamesNone(text: String) {
        #expect(GreylistRetry.suggestedWait(in: text) == nil)
    }
}
