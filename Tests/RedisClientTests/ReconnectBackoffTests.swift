import Testing

@testable import RedisClient

@Suite struct ReconnectBackoffTests {
    let backoff = ReconnectBackoff(initial: .milliseconds(100), max: .seconds(5))

    @Test func doublesFromInitialUpToMax() {
        // jitter 0 gives exactly half the base delay.
        let lowest = (1...10).map { backoff.delay(afterFailures: $0, jitter: 0) }
        #expect(lowest == [50, 100, 200, 400, 800, 1600, 2500, 2500, 2500, 2500].map { Duration.milliseconds($0) })
    }

    @Test(arguments: [1, 2, 7, 100, Int.max])
    func jitterStaysWithinHalfToFullBase(failures: Int) {
        let low = backoff.delay(afterFailures: failures, jitter: 0)
        let high = backoff.delay(afterFailures: failures, jitter: 0.999_999)
        let middle = backoff.delay(afterFailures: failures, jitter: 0.5)
        #expect(low < middle && middle < high)
        #expect(high <= .seconds(5))
        #expect(low * 2 >= high)
    }
}
