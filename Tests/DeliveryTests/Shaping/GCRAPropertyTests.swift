import RelayCore
import Testing

@testable import Delivery

/// Many clients share one TAT, as every worker shares one key in Redis.
@Suite struct GCRAPropertyTests {
    struct Case: Sendable, CustomTestStringConvertible {
        var rate: String
        var seed: UInt64
        var testDescription: String { "\(rate) seed \(seed)" }
    }

    static let cases = [
        Case(rate: "60/min", seed: 1),
        Case(rate: "5/s burst 3", seed: 2),
        Case(rate: "7/s burst 2", seed: 3),
        Case(rate: "100/h burst 10", seed: 4),
        Case(rate: "3/10s burst 5", seed: 5),
        Case(rate: "1000/s burst 50", seed: 6),
    ]

    /// Clients ask at random moments (gaps of 0…2 intervals, several at the same
    /// microsecond too) for 1…4 cells each.
    @Test(arguments: cases)
    func noWindowOfOnePeriodGetsMoreThanCountPlusBurstMinusOne(_ test: Case) throws {
        let rate = try #require(Rate(parsing: test.rate))
        let gcra = GCRA(rate: rate)
        var random = SeededGenerator(seed: test.seed)
        var tat: Int64?
        var now: Int64 = Int64.random(in: 0...1_000_000_000, using: &random)
        var sent: [Int64] = []
        let clients = 16
        var askedBy = [Int](repeating: 0, count: clients)
        for _ in 0..<20_000 {
            now += Int64.random(in: 0...(2 * gcra.intervalMicros), using: &random)
            let client = Int.random(in: 0..<clients, using: &random)
            askedBy[client] += 1
            let result = gcra.take(tat: tat, now: now, wanted: Int.random(in: 1...4, using: &random))
            tat = result.newTAT
            sent += Array(repeating: now, count: result.granted)
        }
        let period = rate.period.milliseconds * 1000
        let busiest = GCRAPropertyTests.mostInAnyWindow(sent, length: period)
        #expect(busiest <= rate.count + rate.burst - 1)
        #expect(sent.count > 20_000 / 4, "the simulation should mostly be granted, not starved")
        #expect(askedBy.allSatisfy { $0 > 0 })
    }

    /// Clients that come back exactly when told (as a re-scored ready index does) get
    /// every cell the limit allows: the bound is reached, and over a long run the count
    /// is exactly what GCRA's schedule permits.
    @Test(arguments: cases)
    func steadyDemandGetsTheFullRate(_ test: Case) throws {
        let rate = try #require(Rate(parsing: test.rate))
        let gcra = GCRA(rate: rate)
        var random = SeededGenerator(seed: test.seed &* 7919)
        let start = Int64.random(in: 0...1_000_000_000, using: &random)
        let clients = 8
        var wake = [Int64](repeating: start, count: clients)
        var tat: Int64?
        var sent: [Int64] = []
        let horizon = start + 50 * rate.period.milliseconds * 1000
        while true {
            // The client that wakes first asks (ties: the lowest number).
            let client = wake.indices.min { wake[$0] < wake[$1] }!
            let now = wake[client]
            if now > horizon { break }
            let result = gcra.take(tat: tat, now: now, wanted: Int.random(in: 1...5, using: &random))
            tat = result.newTAT
            sent += Array(repeating: now, count: result.granted)
            wake[client] = now + result.retryAfterMicros
        }
        // Cell i conforms at start + i·T − τ (never before start): all of them up to the horizon.
        let expected = (horizon - start + gcra.toleranceMicros) / gcra.intervalMicros + 1
        #expect(Int64(sent.count) == expected)
        #expect(sent.count >= 50 * rate.count)
        let period = rate.period.milliseconds * 1000
        let busiest = GCRAPropertyTests.mostInAnyWindow(sent, length: period)
        #expect(busiest == GCRAPropertyTests.bound(gcra, period: period))
        #expect(busiest == rate.count + rate.burst - 1, "the documented tolerance is reached, never passed")
    }

    /// A slowed limit (adaptive backoff) keeps its own, lower bound.
    @Test(arguments: [0.5, 0.25, 0.7])
    func aScaledLimitKeepsItsLowerBound(factor: Double) throws {
        let rate = try #require(Rate(parsing: "120/min burst 4"))
        let slowed = GCRA(rate: rate).scaled(by: factor)
        var random = SeededGenerator(seed: UInt64(factor * 1000))
        var tat: Int64?
        var now: Int64 = 0
        var sent: [Int64] = []
        for _ in 0..<20_000 {
            now += Int64.random(in: 0...slowed.intervalMicros, using: &random)
            let result = slowed.take(tat: tat, now: now, wanted: Int.random(in: 1...3, using: &random))
            tat = result.newTAT
            sent += Array(repeating: now, count: result.granted)
        }
        let period = rate.period.milliseconds * 1000
        let bound = GCRAPropertyTests.bound(slowed, period: period)
        #expect(bound <= Int((Double(rate.count) * factor).rounded(.up)) + rate.burst - 1)
        #expect(GCRAPropertyTests.mostInAnyWindow(sent, length: period) <= bound)
    }

    /// `ceil(period / T) + burst − 1`: the most cells GCRA lets through in a window.
    static func bound(_ gcra: GCRA, period: Int64) -> Int {
        Int((period + gcra.intervalMicros - 1) / gcra.intervalMicros) + gcra.burst - 1
    }

    /// The largest number of `times` (sorted, repeats allowed) in any window
    /// `[t, t + length)`.
    static func mostInAnyWindow(_ times: [Int64], length: Int64) -> Int {
        var most = 0
        var end = 0
        for start in times.indices {
            while end < times.count, times[end] < times[start] + length { end += 1 }
            most = max(most, end - start)
        }
        return most
    }

    @Test func windowCountingCountsRepeatsAndExcludesTheWindowEnd() {
        #expect(GCRAPropertyTests.mostInAnyWindow([0, 0, 5, 10, 10, 10], length: 5) == 3)
        #expect(GCRAPropertyTests.mostInAnyWindow([0, 0, 5, 10, 10, 10], length: 10) == 4)
        #expect(GCRAPropertyTests.mostInAnyWindow([0, 0, 5, 10, 10, 10], length: 11) == 6)
        #expect(GCRAPropertyTests.mostInAnyWindow([], length: 10) == 0)
    }
}
