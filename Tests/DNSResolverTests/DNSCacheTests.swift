import NIOCore
import Testing

@testable import DNSResolver

/// TTL bounds and capacity of the cache, with the clock passed in (no sleeping).
@Suite struct DNSCacheTests {
    static let start = NIODeadline.uptimeNanoseconds(1_000_000_000_000)

    static func question(_ name: String) -> DNSQuestion {
        DNSQuestion(name: try! DNSName(name), type: .a)
    }

    static func records(ttl: UInt32) -> DNSLookupResult {
        .records([DNSResourceRecord(name: try! DNSName("a.example"), ttl: ttl, data: .a([1, 2, 3, 4]))], ttl: ttl)
    }

    @Test func positiveAnswerLivesForItsTTL() {
        var cache = DNSCache(capacity: 10)
        cache.insert(Self.records(ttl: 30), for: Self.question("a.example"), now: Self.start)
        #expect(cache.lookup(Self.question("A.EXAMPLE"), now: Self.start + .seconds(29)) == Self.records(ttl: 30))
        #expect(cache.lookup(Self.question("a.example"), now: Self.start + .seconds(30)) == nil)
        #expect(cache.count == 0)
    }

    @Test func typeIsPartOfTheKey() {
        var cache = DNSCache(capacity: 10)
        cache.insert(Self.records(ttl: 30), for: Self.question("a.example"), now: Self.start)
        #expect(cache.lookup(DNSQuestion(name: try! DNSName("a.example"), type: .aaaa), now: Self.start) == nil)
    }

    @Test(
        arguments: [
            (0, 1), (1, 1), (3600, 3600), (86_400, 3600), (UInt32.max, 1), (0x8000_0000, 1),
        ] as [(UInt32, Int64)])
    func positiveTTLIsClampedToOneSecondAndOneHour(ttl: UInt32, expected: Int64) {
        #expect(DNSCache.lifetime(of: Self.records(ttl: ttl)) == expected)
    }

    @Test func negativeAnswersAreCachedAtMostFiveMinutesAndOnlyWithAnSOA() {
        #expect(DNSCache.lifetime(of: .nameError(negativeTTL: 60)) == 60)
        #expect(DNSCache.lifetime(of: .noData(negativeTTL: 86_400)) == 300)
        #expect(DNSCache.lifetime(of: .nameError(negativeTTL: nil)) == nil)
        #expect(DNSCache.lifetime(of: .noData(negativeTTL: 0)) == nil)

        var cache = DNSCache(capacity: 10)
        cache.insert(.nameError(negativeTTL: nil), for: Self.question("nx.example"), now: Self.start)
        #expect(cache.count == 0)
        cache.insert(.nameError(negativeTTL: 86_400), for: Self.question("nx.example"), now: Self.start)
        #expect(cache.lookup(Self.question("nx.example"), now: Self.start + .seconds(299)) == .nameError(negativeTTL: 86_400))
        #expect(cache.lookup(Self.question("nx.example"), now: Self.start + .seconds(300)) == nil)
    }

    @Test func staysWithinCapacityDroppingExpiredThenSoonestExpiring() {
        var cache = DNSCache(capacity: 2)
        cache.insert(Self.records(ttl: 10), for: Self.question("short.example"), now: Self.start)
        cache.insert(Self.records(ttl: 100), for: Self.question("long.example"), now: Self.start)
        cache.insert(Self.records(ttl: 50), for: Self.question("new.example"), now: Self.start)
        #expect(cache.count == 2)
        #expect(cache.lookup(Self.question("short.example"), now: Self.start) == nil)
        #expect(cache.lookup(Self.question("long.example"), now: Self.start) != nil)
        #expect(cache.lookup(Self.question("new.example"), now: Self.start) != nil)

        // Later, both entries have expired: a new one replaces them without evicting live data.
        let later = Self.start + .seconds(200)
        cache.insert(Self.records(ttl: 10), for: Self.question("third.example"), now: later)
        #expect(cache.count == 1)
        #expect(cache.lookup(Self.question("third.example"), now: later) != nil)
    }
}
