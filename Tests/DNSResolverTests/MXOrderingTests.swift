import Testing

@testable import DNSResolver

/// A small deterministic generator (SplitMix64) so shuffles are reproducible.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64

    mutating func next() -> UInt64 {
        self.state &+= 0x9E37_79B9_7F4A_7C15
        var z = self.state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

@Suite struct MXOrderingTests {
    static let records = [
        MXRecord(preference: 20, exchange: "c.example"),
        MXRecord(preference: 10, exchange: "a.example"),
        MXRecord(preference: 10, exchange: "b.example"),
        MXRecord(preference: 5, exchange: "first.example"),
    ]

    @Test func sortsByPreferenceAndShufflesEqualPreferences() {
        var firstOfTen: Set<String> = []
        for seed in 0..<64 {
            var generator = SeededGenerator(state: UInt64(seed))
            let ordered = MXOrdering.order(Self.records, using: &generator)
            #expect(ordered.map(\.preference) == [5, 10, 10, 20])
            #expect(ordered[0].exchange == "first.example")
            #expect(ordered[3].exchange == "c.example")
            #expect(Set(ordered[1...2].map(\.exchange)) == ["a.example", "b.example"])
            firstOfTen.insert(ordered[1].exchange)
        }
        // Over 64 seeds both equal-preference hosts come first at least once.
        #expect(firstOfTen == ["a.example", "b.example"])
    }

    @Test func keepsEachHostOnceAtItsLowestPreference() {
        var generator = SeededGenerator(state: 1)
        let ordered = MXOrdering.order(
            [
                MXRecord(preference: 30, exchange: "MX.example"), MXRecord(preference: 10, exchange: "mx.example"),
                MXRecord(preference: 20, exchange: "other.example"),
            ],
            using: &generator
        )
        #expect(ordered == [MXRecord(preference: 10, exchange: "mx.example"), MXRecord(preference: 20, exchange: "other.example")])
    }
}
