import Queue
import RelayCore
import Testing

@testable import Delivery

/// The IPs a delivery loop offers for a claim: its pool's only, weighted, the IP of a
/// connection still open first, with the site's limits (none without shaping).
@Suite struct EgressCandidatesTests {
    static let warmup = WarmupSettings(start: "2026-01-01", dailyCaps: [50, 100])
    static let today = warmup.startDay! + 1

    static func address(_ id: EgressID, pool: PoolName = .default, weight: Int = 1, warmup: WarmupSettings? = nil) -> EgressAddress {
        EgressAddress(id: id, bindAddress: nil, heloName: "relay.test", pool: pool, weight: weight, warmup: warmup)
    }

    static let addresses = [
        address("ip1"), address("ip2", warmup: warmup), address("ip3"), address("other1", pool: "bulk"),
        address("other2", pool: "bulk", warmup: warmup),
    ]

    static func candidates(pool: PoolName = .default, shaping: ShapingSettings?, held: EgressID? = nil, seed: UInt64) -> [EgressCandidate] {
        var rng = SeededGenerator(seed: seed)
        return EgressAddress.candidates(from: addresses, pool: pool, shaping: shaping, preferring: held, day: today, using: &rng)
    }

    @Test func onlyThePoolsAddressesAreOfferedAndTheHeldOneFirst() {
        for seed in 0..<50 as Range<UInt64> {
            let plain = Self.candidates(shaping: .builtIn, seed: seed)
            #expect(Set(plain.map(\.egress)) == ["ip1", "ip2", "ip3"])
            let held = Self.candidates(shaping: .builtIn, held: "ip3", seed: seed)
            #expect(held.first?.egress == "ip3")
            #expect(Set(held.map(\.egress)) == ["ip1", "ip2", "ip3"])
            // The others keep the order the weights gave them.
            #expect(held.dropFirst().map(\.egress) == plain.map(\.egress).filter { $0 != "ip3" })
            #expect(Self.candidates(pool: "bulk", shaping: nil, held: "ip1", seed: seed).map(\.egress).sorted() == ["other1", "other2"])
        }
        #expect(Self.candidates(pool: "none", shaping: .builtIn, seed: 1).isEmpty)
    }

    @Test func theSitesLimitsApplyOnlyWhenShaped() throws {
        let shaping = ShapingSettings(maxConnectionsPerIP: 3)
        let shaped = Self.candidates(shaping: shaping, seed: 7)
        #expect(shaped.allSatisfy { $0.maxConnections == 3 })
        #expect(try #require(shaped.first { $0.egress == "ip2" }).warmupCap == 100)
        #expect(try #require(shaped.first { $0.egress == "ip1" }).warmupCap == nil)
        // No route: nothing will be sent, so neither limits nor the warm-up cap apply.
        let unlimited = Self.candidates(shaping: nil, seed: 7)
        #expect(unlimited.map(\.maxConnections) == [0, 0, 0])
        #expect(unlimited.allSatisfy { $0.rate == nil && $0.connectionRate == nil })
        #expect(unlimited.map(\.warmupCap) == [nil, nil, nil])
    }

    @Test func theHeavierAddressComesFirstInProportionToItsWeight() {
        let addresses = [Self.address("light", weight: 1), Self.address("heavy", weight: 9)]
        var rng = SeededGenerator(seed: 42)
        var heavyFirst = 0
        for _ in 0..<2000 {
            let order = EgressAddress.candidates(from: addresses, pool: .default, shaping: nil, preferring: nil, day: 0, using: &rng)
            if order.first?.egress == "heavy" { heavyFirst += 1 }
        }
        // Efraimidis–Spirakis: P(heavy first) = 9 / 10.
        #expect((1700...1900).contains(heavyFirst))
    }
}
