/// Recipient domains with weights: `gmail.sim=40,docomo.sim=20`.
struct DomainMix: Sendable {
    let domains: [String]
    /// Cumulative weights, for picking a domain by sequence number deterministically.
    let cumulative: [Int]

    init(parsing text: String) throws {
        var domains: [String] = []
        var cumulative: [Int] = []
        var total = 0
        for part in text.split(separator: ",") {
            let pieces = part.split(separator: "=", maxSplits: 1)
            let domain = String(pieces[0])
            let weight = pieces.count == 2 ? Int(pieces[1]) : 1
            guard !domain.isEmpty, let weight, weight > 0 else {
                throw MixError(description: "--mix: '\(part)' is not domain=weight")
            }
            total += weight
            domains.append(domain)
            cumulative.append(total)
        }
        guard !domains.isEmpty else { throw MixError(description: "--mix names no domain") }
        self.domains = domains
        self.cumulative = cumulative
    }

    /// The domain for message `seq`: a deterministic spread that honours the weights.
    func domain(for seq: Int) -> String {
        let total = cumulative.last!
        // Multiplicative hashing spreads consecutive numbers over the weight range.
        let slot = Int((UInt64(seq) &* 2_654_435_761) % UInt64(total))
        let index = cumulative.firstIndex { slot < $0 }!
        return domains[index]
    }
}

struct MixError: Error, CustomStringConvertible {
    let description: String
}
