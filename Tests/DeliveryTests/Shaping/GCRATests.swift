import RelayCore
import Testing

@testable import Delivery

@Suite struct GCRATests {
    /// 3000/h burst 3: T = 1.2 s, τ = 2.4 s (the example in GCRA's documentation).
    let limit = GCRA(intervalMicros: 1_200_000, burst: 3)

    @Test func anIdleLimitGrantsTheBurstAtOnce() {
        let result = limit.take(tat: nil, now: 0, wanted: 5)
        #expect(result.granted == 3)
        #expect(result.newTAT == 3_600_000)
        #expect(result.retryAfterMicros == 0)
    }

    @Test func aFullLimitSaysHowLongToWaitAndKeepsItsTAT() {
        let result = limit.take(tat: 3_600_000, now: 0, wanted: 1)
        #expect(result.granted == 0)
        #expect(result.newTAT == 3_600_000)
        #expect(result.retryAfterMicros == 1_200_000)
    }

    @Test func waitingExactlyTheRetryTimeGrantsOneCellAndNotAMicrosecondEarlier() {
        let first = limit.take(tat: 3_600_000, now: 500, wanted: 1)
        #expect(first.granted == 0)
        let wake = 500 + first.retryAfterMicros
        #expect(limit.take(tat: 3_600_000, now: wake - 1, wanted: 1).granted == 0)
        let second = limit.take(tat: 3_600_000, now: wake, wanted: 5)
        #expect(second.granted == 1)
        #expect(second.newTAT == 4_800_000)
    }

    @Test func aTATInThePastGivesNoMoreThanTheBurst() {
        let result = limit.take(tat: 1_000, now: 100_000_000, wanted: 10)
        #expect(result.granted == 3)
        #expect(result.newTAT == Int64(103_600_000))
    }

    @Test func grantsPartOfTheWantedCellsWhenOnlySomeFit() {
        // TAT 1.2 s ahead of now: τ leaves room for 2 more cells (at TAT and TAT + T).
        let result = limit.take(tat: 1_200_000, now: 0, wanted: 5)
        #expect(result.granted == 2)
        #expect(result.newTAT == 3_600_000)
        #expect(result.retryAfterMicros == 0)
    }

    @Test func burstOneMeansStrictSpacing() {
        let strict = GCRA(intervalMicros: 1_000, burst: 1)
        #expect(strict.toleranceMicros == 0)
        let first = strict.take(tat: nil, now: 10_000, wanted: 3)
        #expect(first.granted == 1)
        #expect(first.newTAT == 11_000)
        let second = strict.take(tat: first.newTAT, now: 10_999, wanted: 1)
        #expect(second.granted == 0)
        #expect(second.retryAfterMicros == 1)
    }

    @Test func wantingNothingChangesNothing() {
        let result = limit.take(tat: 7, now: 0, wanted: 0)
        #expect(result.granted == 0)
        #expect(result.newTAT == 7)
        #expect(result.retryAfterMicros == 0)
        #expect(limit.take(tat: nil, now: 0, wanted: -1).newTAT == nil)
    }

    @Test func aZeroIntervalIsUnlimited() {
        let unlimited = GCRA(intervalMicros: 0, burst: 1)
        let result = unlimited.take(tat: 50, now: 10, wanted: 1_000)
        #expect(result.granted == 1_000)
        #expect(result.retryAfterMicros == 0)
    }

    @Test func burstIsAtLeastOne() {
        #expect(GCRA(intervalMicros: 10, burst: 0).burst == 1)
        #expect(GCRA(intervalMicros: 10, burst: -3).toleranceMicros == 0)
    }

    @Test func takingSeveralCellsAtOnceEqualsTakingThemOneByOne() {
        var random = SeededGenerator(seed: 0x6C1A)
        for _ in 0..<2_000 {
            let gcra = GCRA(intervalMicros: Int64.random(in: 1...5_000, using: &random), burst: Int.random(in: 1...6, using: &random))
            let now = Int64.random(in: 0...100_000, using: &random)
            let tat: Int64? = Bool.random(using: &random) ? nil : Int64.random(in: 0...150_000, using: &random)
            let wanted = Int.random(in: 1...8, using: &random)

            let batch = gcra.take(tat: tat, now: now, wanted: wanted)
            var single = tat
            var granted = 0
            for _ in 0..<wanted {
                let one = gcra.take(tat: single, now: now, wanted: 1)
                guard one.granted == 1 else { break }
                granted += 1
                single = one.newTAT
            }
            #expect(batch.granted == granted, "\(gcra) tat \(String(describing: tat)) now \(now) wanted \(wanted)")
            #expect(batch.newTAT == single)
        }
    }

    @Test(arguments: [
        ("3000/h", Int64(1_200_000), 1),
        ("60/min burst 10", Int64(1_000_000), 10),
        ("7/s", Int64(142_858), 1),  // 142 857.14… rounded up, never down
        ("20/10s burst 2", Int64(500_000), 2),
    ])
    func intervalFromARateRoundsUp(text: String, interval: Int64, burst: Int) throws {
        let rate = try #require(Rate(parsing: text))
        let gcra = GCRA(rate: rate)
        #expect(gcra.intervalMicros == interval)
        #expect(gcra.burst == burst)
        #expect(gcra.intervalMicros * Int64(rate.count) >= rate.period.milliseconds * 1000)
    }

    @Test func scalingSlowsTheRateAndKeepsTheBurst() {
        let base = GCRA(intervalMicros: 1_000_000, burst: 4)
        #expect(base.scaled(by: 0.5) == GCRA(intervalMicros: 2_000_000, burst: 4))
        #expect(base.scaled(by: 0.3).intervalMicros == 3_333_334)
        #expect(base.scaled(by: 1) == base)
    }

    @Test(arguments: [2.0, 0, -0.5, Double.nan, Double.infinity])
    func scalingNeverSpeedsUp(factor: Double) {
        let base = GCRA(intervalMicros: 1_000_000, burst: 2)
        #expect(base.scaled(by: factor) == base)
    }

    @Test func scalingIsCappedFarFromOverflow() {
        let slowest = GCRA(intervalMicros: 1_000_000, burst: 1_000).scaled(by: 1e-300)
        #expect(slowest.intervalMicros == GCRA.maxIntervalMicros)
        #expect(slowest.take(tat: nil, now: 0, wanted: 2_000).granted == 1_000)
    }
}
