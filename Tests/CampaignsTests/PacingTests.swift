import Foundation
import RelayCore
import Testing

@testable import Campaigns

struct PacingTests {
    /// 2026-12-07 00:00:00 UTC = 09:00 JST.
    static let midnightUTC: Int64 = 1_796_601_600_000

    @Test func tokyoWindowOpensAtNineAndClosesAtTwenty() throws {
        let window = try #require(SendWindow(parsing: "09:00–20:00", timeZone: "Asia/Tokyo"))
        #expect(window.isOpen(at: Self.midnightUTC))  // 09:00 JST
        #expect(!window.isOpen(at: Self.midnightUTC - 60_000))  // 08:59 JST
        #expect(window.isOpen(at: Self.midnightUTC + 11 * 3_600_000 - 60_000))  // 19:59
        #expect(!window.isOpen(at: Self.midnightUTC + 11 * 3_600_000))  // 20:00
        // From 20:30 JST the next opening is 09:00 JST the next day.
        #expect(window.nextOpening(after: Self.midnightUTC + 11 * 3_600_000 + 1_800_000) == Self.midnightUTC + 86_400_000)
        #expect(window.description == "09:00-20:00 Asia/Tokyo")
    }

    @Test func windowAcrossMidnightAndBadInput() throws {
        let night = try #require(SendWindow(parsing: "22:00-06:00", timeZone: "UTC"))
        #expect(night.isOpen(at: Self.midnightUTC + 23 * 3_600_000))
        #expect(night.isOpen(at: Self.midnightUTC + 5 * 3_600_000))
        #expect(!night.isOpen(at: Self.midnightUTC + 12 * 3_600_000))
        #expect(SendWindow(parsing: "9-20", timeZone: "UTC") == nil)
        #expect(SendWindow(parsing: "09:00-20:00", timeZone: "Mars/Olympus") == nil)
        #expect(SendWindow(parsing: "10:00-10:00", timeZone: "UTC") == nil)
    }

    @Test func siteAllowanceIsTheLookaheadOfItsRateLessWhatWaits() throws {
        // docomo-like: 30/min → 150 in five minutes; 100 already waiting leaves 50.
        let docomo = try #require(Rate(parsing: "30/min"))
        #expect(SendPacing.siteAllowance(rate: docomo, lookaheadMilliseconds: 300_000, queued: 100) == 50)
        #expect(SendPacing.siteAllowance(rate: docomo, lookaheadMilliseconds: 300_000, queued: 400) == 0)
        // A slow site still gets one message (or its burst).
        let slow = try #require(Rate(parsing: "1/h burst 3"))
        #expect(SendPacing.siteAllowance(rate: slow, lookaheadMilliseconds: 300_000, queued: 0) == 3)
        #expect(SendPacing.siteAllowance(rate: nil, lookaheadMilliseconds: 300_000, queued: 1_000_000) == nil)
    }

    @Test func rateBucketSpacesAndAccruesUpToOneSecond() throws {
        var bucket = RateBucket(rate: try #require(Rate(parsing: "10/s")), now: 0)
        #expect(bucket.take(100, now: 0) == 10)
        #expect(bucket.take(100, now: 0) == 0)
        #expect(bucket.take(100, now: 500) == 5)
        #expect(bucket.take(100, now: 60_000) == 10)  // capped at a second's worth
        bucket.giveBack(4)
        #expect(bucket.take(100, now: 60_000) == 4)
        #expect(bucket.wait(now: 60_000) == 100)
    }
}
