/// A lookup result with the AD bit of the response (RFC 4035 §3.2.3), as cached.
struct DNSAnswer: Sendable, Hashable {
    var result: DNSLookupResult
    /// The resolver set AD: it validated the answer (or the denial) with DNSSEC.
    var isAuthenticated: Bool
}

/// What a response says about one question, after following CNAMEs (RFC 1034 §3.6.2)
/// within the response. This is what the resolver caches.
enum DNSLookupResult: Sendable, Hashable {
    /// The records of the asked type at the end of the CNAME chain, and the smallest TTL
    /// along the chain.
    case records([DNSResourceRecord], ttl: UInt32)
    /// NODATA (RFC 2308 §2.2): the name exists but has no records of the asked type.
    /// `negativeTTL` is `nil` when the response carries no SOA (then it is not cached).
    case noData(negativeTTL: UInt32?)
    /// NXDOMAIN (RFC 2308 §2.1), possibly reached through a CNAME (RFC 6604 §3).
    case nameError(negativeTTL: UInt32?)

    /// The longest CNAME chain followed inside one response.
    static let maximumCNAMEChain = 16

    /// Interprets `response` for `question`. The caller has already checked that the
    /// response matches the query (id and question).
    ///
    /// - Throws: ``DNSError`` ``DNSError/Code/serverFailure`` for an RCODE other than
    ///   NOERROR and NXDOMAIN; ``DNSError/Code/malformedResponse`` for a CNAME loop or an
    ///   over-long chain.
    init(response: DNSMessage, question: DNSQuestion) throws {
        let code = response.header.responseCode
        guard code == .noError || code == .nameError else {
            throw DNSError(.serverFailure, "server answered \(code) for \(question)")
        }
        var name = question.name
        var ttl = UInt32.max
        var visited: Set<DNSName> = [name]
        var chainLength = 0
        while true {
            let matching = response.answers.filter { $0.name == name && $0.type == question.type }
            if !matching.isEmpty {
                let smallest = matching.map(\.ttl).min() ?? 0
                self = .records(matching, ttl: min(ttl, smallest))
                return
            }
            guard question.type != .cname,
                let alias = response.answers.first(where: { $0.name == name && $0.type == .cname }),
                case .cname(let target) = alias.data
            else { break }
            chainLength += 1
            guard chainLength <= Self.maximumCNAMEChain, visited.insert(target).inserted else {
                throw DNSError.malformed("CNAME loop or chain longer than \(Self.maximumCNAMEChain) for \(question)")
            }
            ttl = min(ttl, alias.ttl)
            name = target
        }
        if code == .nameError {
            self = .nameError(negativeTTL: Self.negativeTTL(response))
        } else {
            self = .noData(negativeTTL: Self.negativeTTL(response))
        }
    }

    /// RFC 2308 §5: a negative answer may be cached for the smaller of the SOA record's
    /// TTL and its MINIMUM field; without an SOA it should not be cached.
    private static func negativeTTL(_ response: DNSMessage) -> UInt32? {
        for record in response.authorities {
            if case .soa(let soa) = record.data {
                return min(record.ttl, soa.minimum)
            }
        }
        return nil
    }
}
