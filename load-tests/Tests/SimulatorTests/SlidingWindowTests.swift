import NIOCore
import Testing

@testable import hikyaku_sim

@Suite struct SlidingWindowTests {
    static func at(_ milliseconds: Int64) -> NIODeadline {
        .uptimeNanoseconds(UInt64(1_000_000_000 + milliseconds * 1_000_000))
    }

    /// Which of the events at these times (ms) the window admits.
    static func admitted(_ window: inout SlidingWindow, _ times: [Int64]) -> [Int64] {
        times.filter { window.admit(at: Self.at($0)) }
    }

    @Test func admitsUpToTheLimitWithinAnyPeriod() {
        var window = SlidingWindow(limit: 3, period: .seconds(1))
        // The event at 0 leaves the window at 1000 ms: one place frees up, the next at 1100.
        let admitted = Self.admitted(&window, [0, 100, 200, 999, 1000, 1050, 1100])
        #expect(admitted == [0, 100, 200, 1000, 1100])
        let now = window.count(at: Self.at(1100))
        let later = window.count(at: Self.at(5000))
        #expect(now == 3)
        #expect(later == 0)
    }

    @Test func isStricterThanAFixedWindowAtItsBoundary() {
        // A fixed one-second window would let 2 × 3 through between 0.9 s and 1.1 s.
        var window = SlidingWindow(limit: 3, period: .seconds(1))
        let admitted = Self.admitted(&window, [900, 950, 990, 1000, 1050, 1100])
        #expect(admitted == [900, 950, 990])
    }

    @Test func addCountsEventsAndForgetsTheOldestWhenFull() {
        var window = SlidingWindow(limit: 2, period: .seconds(10))
        let counts = [0, 1, 2].map { window.add(at: Self.at($0)) }
        #expect(counts == [1, 2, 2])
        // The event at 0 was forgotten; the one at 1 has expired by 10.001 s, the one at 2 not.
        let remaining = window.count(at: Self.at(10_001))
        #expect(remaining == 1)
        window.reset()
        let afterReset = window.count(at: Self.at(10_001))
        #expect(afterReset == 0)
    }

    @Test func growsPastItsInitialCapacityAndWrapsAround() {
        var window = SlidingWindow(limit: 100, period: .seconds(1))
        let first = Self.admitted(&window, Array(0..<101))
        #expect(first == Array(0..<100))
        // At 1050 ms the events at 0...50 have expired: 51...99 remain, 51 places are free.
        let remaining = window.count(at: Self.at(1050))
        #expect(remaining == 49)
        let second = Self.admitted(&window, Array(repeating: 1050, count: 60))
        #expect(second.count == 51)
        // The oldest (51...99) expire first, whatever their place in the ring.
        let afterOld = window.count(at: Self.at(1100))
        let afterAll = window.count(at: Self.at(2050))
        #expect(afterOld == 51)
        #expect(afterAll == 0)
    }
}
