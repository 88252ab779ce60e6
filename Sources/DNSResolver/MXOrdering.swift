/// Orders MX records for delivery (RFC 5321 §5.1): ascending preference, records of equal
/// preference in random order so load spreads across them, each host once (at its lowest
/// preference).
enum MXOrdering {
    static func order<R: RandomNumberGenerator>(_ records: [MXRecord], using generator: inout R) -> [MXRecord] {
        var seen: Set<String> = []
        var groups: [UInt16: [MXRecord]] = [:]
        for record in records.sorted(by: { $0.preference < $1.preference }) {
            guard seen.insert(record.exchange.lowercased()).inserted else { continue }
            groups[record.preference, default: []].append(record)
        }
        return groups.keys.sorted().flatMap { groups[$0]!.shuffled(using: &generator) }
    }
}
