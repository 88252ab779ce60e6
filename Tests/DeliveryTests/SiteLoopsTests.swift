import RelayCore
import Testing

@testable import Delivery

/// `delivery.max_loops_per_site`: one site may hold at most its bound of a worker's loops.
struct SiteLoopsTests {
    @Test(arguments: [(1, 1), (2, 1), (4, 3), (16, 12), (64, 48)])
    func theDefaultKeepsAQuarterOfTheLoopsInReserve(concurrency: Int, bound: Int) {
        #expect(DeliverySettings.defaultMaxLoopsPerSite(concurrency: concurrency) == bound)
    }

    @Test func aSiteAtItsBoundIsRefusedUntilALoopLeaves() {
        let loops = SiteLoops(bound: 2)
        let slow = SiteName(rawValue: "slow"), limited = SiteName(rawValue: "limited")
        #expect(loops.enter(slow))
        #expect(loops.enter(slow))
        #expect(!loops.enter(slow))
        #expect(loops.enter(limited))
        loops.leave(slow)
        #expect(loops.enter(slow))
        #expect(!loops.enter(slow))
    }
}
