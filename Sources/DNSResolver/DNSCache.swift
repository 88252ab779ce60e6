import NIOCore

/// A bounded cache of lookup results, honouring TTLs within limits.
///
/// Positive answers live for their TTL clamped to ``minimumTTL``…``maximumTTL`` (a TTL
/// with the top bit set counts as 0, RFC 2181 §8). Negative answers live for the SOA-derived
/// TTL of RFC 2308 §5, at most ``maximumNegativeTTL``; a negative answer without an SOA, or
/// with a zero negative TTL, is not cached. A pure value: the caller passes the time.
struct DNSCache: Sendable {
    static let minimumTTL: Int64 = 1
    static let maximumTTL: Int64 = 3600
    static let maximumNegativeTTL: Int64 = 300

    private struct Entry: Sendable {
        var result: DNSLookupResult
        var expires: NIODeadline
        var authenticated: Bool
    }

    let capacity: Int
    private var entries: [DNSQuestion: Entry] = [:]

    init(capacity: Int) {
        self.capacity = max(1, capacity)
    }

    var count: Int { self.entries.count }

    /// The cached result for `question`, if one is still fresh at `now`.
    mutating func lookup(_ question: DNSQuestion, now: NIODeadline) -> DNSLookupResult? {
        self.answer(question, now: now)?.result
    }

    /// The cached result with the AD bit of the response it came from.
    mutating func answer(_ question: DNSQuestion, now: NIODeadline) -> DNSAnswer? {
        guard let entry = self.entries[question] else { return nil }
        guard entry.expires > now else {
            self.entries[question] = nil
            return nil
        }
        return DNSAnswer(result: entry.result, isAuthenticated: entry.authenticated)
    }

    /// Stores `result` for `question` if it is cacheable. When full, expired entries are
    /// dropped first, then the entry closest to expiry.
    mutating func insert(_ result: DNSLookupResult, for question: DNSQuestion, now: NIODeadline, authenticated: Bool = false) {
        guard let lifetime = Self.lifetime(of: result) else { return }
        if self.entries[question] == nil, self.entries.count >= self.capacity {
            self.entries = self.entries.filter { $0.value.expires > now }
            if self.entries.count >= self.capacity,
                let soonest = self.entries.min(by: { $0.value.expires < $1.value.expires })?.key
            {
                self.entries[soonest] = nil
            }
        }
        self.entries[question] = Entry(result: result, expires: now + .seconds(lifetime), authenticated: authenticated)
    }

    mutating func removeAll() {
        self.entries.removeAll()
    }

    /// How many seconds `result` may be cached, `nil` when it may not.
    static func lifetime(of result: DNSLookupResult) -> Int64? {
        switch result {
        case .records(_, let ttl):
            return min(max(Self.effective(ttl), Self.minimumTTL), Self.maximumTTL)
        case .noData(let ttl), .nameError(let ttl):
            guard let ttl, Self.effective(ttl) > 0 else { return nil }
            return min(Self.effective(ttl), Self.maximumNegativeTTL)
        }
    }

    private static func effective(_ ttl: UInt32) -> Int64 {
        ttl > UInt32(Int32.max) ? 0 : Int64(ttl)
    }
}
