import Testing

@testable import Webhooks

struct WebhookBackoffTests {
    let backoff = WebhookBackoff()

    @Test func doublesFromFiveSecondsToAnHour() {
        let seconds = (1...12).map { backoff.baseDelay(attempt: $0).milliseconds / 1000 }
        #expect(seconds == [5, 10, 20, 40, 80, 160, 320, 640, 1280, 2560, 3600, 3600])
        #expect(backoff.baseDelay(attempt: 500) == .seconds(3600))
    }

    @Test func jitterTakesOffAtMostAFifth() {
        #expect(backoff.delay(attempt: 1, jitter: 0) == .seconds(5))
        #expect(backoff.delay(attempt: 1, jitter: 1) == .seconds(4))
        #expect(backoff.delay(attempt: 3, jitter: 0.5) == .seconds(18))
        for _ in 0..<100 {
            let delay = backoff.delay(attempt: 11, jitter: Double.random(in: 0...1))
            #expect(delay >= .seconds(2880) && delay <= .seconds(3600))
        }
    }

    @Test func givesUpAfterADay() {
        #expect(!backoff.givesUp(firstFailure: 0, now: 86_399_999))
        #expect(backoff.givesUp(firstFailure: 0, now: 86_400_000))
    }

    /// About 35 tries over the day with the defaults (README "Webhooks").
    @Test func triesInADay() {
        var elapsed: Int64 = 0
        var tries = 1
        while true {
            elapsed += backoff.baseDelay(attempt: tries).milliseconds
            if backoff.givesUp(firstFailure: 0, now: elapsed) { break }
            tries += 1
        }
        #expect((30...40).contains(tries), "\(tries)")
    }

    @Test(arguments: [
        (200, WebhookVerdict.delivered), (204, .delivered), (299, .delivered), (408, .retry), (429, .retry), (500, .retry),
        (503, .retry), (599, .retry), (400, .dead), (401, .dead), (404, .dead), (410, .dead), (301, .dead), (302, .dead),
    ])
    func statusVerdicts(status: Int, verdict: WebhookVerdict) {
        #expect(WebhookVerdict.of(status: status) == verdict)
    }
}
