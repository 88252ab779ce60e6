import NIOCore
import RelayCore
import SMTPProtocol
import Testing

@testable import Delivery
@testable import Queue

/// How an item is settled from its recipients' results: the retry schedule and its jitter,
/// expiry at `max_age`, the events' fields, capped replies, a vanished message.
@Suite struct OutcomePlannerTests {
    static let now: Int64 = 1_700_000_000_000
    static let batch = ClaimedBatch(
        pool: .default, domain: "example.test", unit: DeliveryUnit(egress: "192.0.2.7", site: "site.test"),
        lease: LeaseName(rawValue: "w1#1"), items: [])

    static func planner(
        schedule: [ConfigDuration] = [.minutes(1), .minutes(5), .hours(1)], jitter: Double = 0, maxAge: ConfigDuration = .days(5)
    )
        -> OutcomePlanner
    {
        var settings = DeliverySettings()
        settings.retrySchedule = schedule
        settings.retryJitter = jitter
        settings.maxAge = maxAge
        return OutcomePlanner(settings: settings, batch: batch, node: "w1")
    }

    static func item(_ recipients: [Mailbox], attempts: Int = 0, acceptedAt: Int64 = now - 60_000) -> WorkItem {
        WorkItem(
            entryID: "1-0", queueID: QueueID(rawValue: "q1"), recipients: recipients, previousAttempts: attempts, acceptedAt: acceptedAt)
    }

    static let message = StoredMessage(
        queueID: QueueID(rawValue: "q1"), sender: "app@example.com", account: "acme", messageID: "<m@x>", acceptedAt: now - 60_000,
        body: ByteBuffer(string: "x\r\n"))

    static func remote(_ recipient: Mailbox, _ code: Int, _ text: String) -> RecipientResult {
        RecipientResult(
            recipient: recipient, remoteReply: SMTPReply(code: code, lines: [text]), remoteHost: "mx.example.test",
            remoteIP: "192.0.2.25")
    }

    @Test(arguments: [(0, 60_000), (1, 300_000), (2, 3_600_000), (3, 3_600_000), (40, 3_600_000)] as [(Int, Int64)])
    func theScheduleEntryIsTheAttemptsAndStaysAtTheLast(attempts: Int, wait: Int64) {
        var rng = SeededGenerator(seed: 1)
        let outcome = Self.planner().outcome(
            for: Self.item(["a@example.test"], attempts: attempts),
            results: [RecipientResult(recipient: "a@example.test", kind: .deferred, reply: "451 later")],
            message: Self.message, now: Self.now, using: &rng)
        #expect(outcome.retry?.dueAt == Self.now + wait)
        #expect(outcome.retry?.recipients == ["a@example.test"])
        #expect(outcome.finalCount == 0)
        #expect(outcome.events.map(\.event) == [.deferred])
        #expect(outcome.events.first?.attempt == attempts + 1)
        #expect(outcome.events.first?.bounceType == .soft)
        #expect(outcome.events.first?.nextAttemptAt == WallClock.iso8601(milliseconds: Self.now + wait))
    }

    @Test func aServerDeferralIsPinnedToTheBatchIPAndARelayFailureIsNot() {
        var rng = SeededGenerator(seed: 1)
        let greylisted = Self.planner().outcome(
            for: Self.item(["a@example.test", "b@example.test"]),
            results: [Self.remote("a@example.test", 451, "4.7.1 Greylisted"), Self.remote("b@example.test", 250, "ok")],
            message: Self.message, now: Self.now, using: &rng)
        #expect(greylisted.pinnedEgress == "192.0.2.7")
        let unreachable = Self.planner().outcome(
            for: Self.item(["a@example.test"]),
            results: [RecipientResult(recipient: "a@example.test", kind: .deferred, reply: "451 4.4.1 Could not reach")],
            message: Self.message, now: Self.now, using: &rng)
        #expect(unreachable.retry != nil && unreachable.pinnedEgress == nil)
        let delivered = Self.planner().outcome(
            for: Self.item(["a@example.test"]), results: [Self.remote("a@example.test", 250, "ok")],
            message: Self.message, now: Self.now, using: &rng)
        #expect(delivered.pinnedEgress == nil)
    }

    @Test func aThrottlingReplyIsNotPinned() {
        var rng = SeededGenerator(seed: 1)
        var planner = Self.planner()
        planner.backoff = BackoffRules(settings: DeliverySettings())
        let outcome = planner.outcome(
            for: Self.item(["a@example.test"]), results: [Self.remote("a@example.test", 451, "4.7.0 Too many messages, slow down")],
            message: Self.message, now: Self.now, using: &rng)
        #expect(outcome.retry != nil && outcome.pinnedEgress == nil)
    }

    @Test func theWaitAReplyNamesReplacesTheSchedule() {
        var rng = SeededGenerator(seed: 1)
        let outcome = Self.planner(schedule: [.minutes(1)], jitter: 0.5).outcome(
            for: Self.item(["a@example.test"]), results: [Self.remote("a@example.test", 451, "4.7.1 Greylisted for 300 seconds")],
            message: Self.message, now: Self.now, using: &rng)
        #expect(outcome.retry?.dueAt == Self.now + 300_000)
    }

    @Test func jitterLengthensTheWaitByUpToItsShare() {
        let planner = Self.planner(schedule: [.minutes(10)], jitter: 0.25)
        var waits: [Int64] = []
        for seed in 0..<200 as Range<UInt64> {
            var rng = SeededGenerator(seed: seed)
            waits.append(planner.retryWait(afterAttempts: 0, using: &rng))
        }
        #expect(waits.allSatisfy { (600_000...750_000).contains($0) })
        // Spread over the range, not one value.
        #expect(waits.min()! < 620_000 && waits.max()! > 730_000)
        var rng = SeededGenerator(seed: 9)
        #expect(Self.planner(schedule: [.minutes(10)], jitter: 0).retryWait(afterAttempts: 0, using: &rng) == 600_000)
    }

    @Test func aDeferralWhoseNextTryFallsAfterMaxAgeExpiresWithTheReasonAppended() throws {
        // Accepted 4 days 23 hours (and a millisecond) ago; max_age 5 days; the next try
        // would be in an hour: past the limit.
        let accepted = Self.now - 119 * 3_600_000 - 1
        var rng = SeededGenerator(seed: 1)
        let planner = Self.planner(schedule: [.hours(1)])
        let outcome = planner.outcome(
            for: Self.item(["a@example.test", "b@example.test"], attempts: 7, acceptedAt: accepted),
            results: [Self.remote("a@example.test", 451, "4.7.1 try later"), Self.remote("b@example.test", 250, "ok")],
            message: Self.message, now: Self.now, using: &rng)
        try #require(outcome.events.map(\.event) == [.expired, .delivered])
        #expect(outcome.finalCount == 2)
        #expect(outcome.retry == nil)
        #expect(outcome.events[0].reply == "451 4.7.1 try later (gave up after \(planner.settings.maxAge))")
        #expect(outcome.events[0].nextAttemptAt == nil)
        // Classified from the reply without the relay's suffix: a 4xx stays soft.
        #expect(outcome.events[0].bounceType == .soft && outcome.events[0].bounceClass != nil)
        // A next try falling exactly at max_age is still made.
        let inside = planner.outcome(
            for: Self.item(["a@example.test"], attempts: 7, acceptedAt: Self.now - 119 * 3_600_000),
            results: [Self.remote("a@example.test", 451, "4.7.1 try later")], message: Self.message, now: Self.now, using: &rng)
        #expect(inside.events.map(\.event) == [.deferred])
        #expect(inside.retry?.dueAt == Self.now + 3_600_000)
    }

    @Test func eventsCarryTheBatchTheMessageAndTheAttempt() throws {
        var rng = SeededGenerator(seed: 1)
        let outcome = Self.planner().outcome(
            for: Self.item(["a@example.test", "b@example.test"], attempts: 1),
            results: [Self.remote("a@example.test", 250, "2.0.0 ok"), Self.remote("b@example.test", 550, "5.1.1 no such user")],
            message: Self.message, now: Self.now, using: &rng)
        #expect(outcome.events.map(\.event) == [.delivered, .bounced])
        #expect(outcome.finalCount == 2 && outcome.retry == nil && outcome.account == "acme")
        let event = try #require(outcome.events.last)
        #expect(event.recipient == "b@example.test")
        #expect(event.queueID == "q1" && event.messageID == "<m@x>" && event.sender == "app@example.com")
        #expect(event.account == "acme" && event.node == "w1")
        #expect(event.domain == "example.test" && event.site == "site.test" && event.egressIP == "192.0.2.7")
        #expect(event.remoteHost == "mx.example.test" && event.remoteIP == "192.0.2.25")
        #expect(event.reply == "550 5.1.1 no such user")
        #expect(event.bounceClass == .invalidRecipient && event.bounceType == .hard)
        #expect(outcome.events[0].bounceClass == nil && outcome.events[0].bounceType == nil)
        #expect(event.attempt == 2)
        #expect(event.time == WallClock.iso8601(milliseconds: Self.now))
        #expect(event.acceptedAt == WallClock.iso8601(milliseconds: Self.now - 60_000))
        #expect(event.nextAttemptAt == nil)
    }

    @Test func aLongReplyIsCappedAndTheExpirySuffixStillFits() throws {
        let long = String(repeating: "x", count: 2000)
        var rng = SeededGenerator(seed: 1)
        let planner = Self.planner(schedule: [.hours(1)], maxAge: .hours(1))
        let outcome = planner.outcome(
            for: Self.item(["a@example.test", "b@example.test"], acceptedAt: Self.now - 60_000),
            results: [Self.remote("a@example.test", 451, long), Self.remote("b@example.test", 550, long)],
            message: Self.message, now: Self.now, using: &rng)
        try #require(outcome.events.map(\.event) == [.expired, .bounced])
        let expired = try #require(outcome.events[0].reply)
        let suffix = " (gave up after \(planner.settings.maxAge))"
        #expect(expired.hasSuffix(suffix) && expired.hasPrefix("451 xxx"))
        #expect(expired.utf8.count <= RemoteText.storedLimit)
        #expect(expired.dropLast(suffix.count).hasSuffix("\u{2026}"))
        let bounced = try #require(outcome.events[1].reply)
        #expect(bounced.utf8.count <= RemoteText.storedLimit && bounced.hasSuffix("\u{2026}"))
    }

    @Test func aVanishedMessageCountsNothingFinal() throws {
        var rng = SeededGenerator(seed: 1)
        let outcome = Self.planner().outcome(
            for: Self.item(["a@example.test"]), results: [Self.remote("a@example.test", 250, "ok")], message: nil, now: Self.now,
            using: &rng)
        #expect(outcome.finalCount == 0)
        try #require(outcome.events.map(\.event) == [.delivered])
        #expect(outcome.events[0].sender == "" && outcome.events[0].messageID == nil && outcome.account == nil)
        let empty = Self.planner().outcome(for: Self.item(["a@example.test"]), results: [], message: nil, now: Self.now, using: &rng)
        #expect(empty.finalCount == 0 && empty.events.isEmpty && empty.retry == nil)
    }
}
