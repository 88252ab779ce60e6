import DNSResolver

/// The DNS answers a domain check is evaluated over: a map from (name, type) to what the
/// resolver said. Every check is a pure function of a snapshot, so the checks unit-test
/// with a literal zone and no network.
///
/// A snapshot is either *complete* — a zone written out in full, where a question not in
/// it has no records — or *partial*, as the ``DomainChecker`` builds it: a question not in
/// it has simply not been asked yet, and looking it up throws ``Missing`` naming it. The
/// checker fetches what the checks asked for and runs them again until nothing is
/// missing, so it fetches exactly the names the checks read (an SPF `include:` chain is
/// followed as far as evaluation goes) and can never drift out of step with them.
public struct DNSSnapshot: Sendable {
    /// What one question got.
    public enum Answer: Sendable, Hashable {
        /// The records (after CNAMEs); empty for NODATA (RFC 2308 §2.2).
        case records([DNSRecordData])
        /// NXDOMAIN (RFC 1035 §4.1.1, RCODE 3).
        case nameDoesNotExist
        /// No answer: timeout, SERVFAIL, a malformed reply, an invalid name.
        case failed(String)
    }

    /// A question: a name (lower-cased, no trailing dot) and a type.
    public struct Key: Sendable, Hashable, CustomStringConvertible {
        public let name: String
        public let type: DNSRecordType

        public init(_ name: String, _ type: DNSRecordType) {
            self.name = DNSSnapshot.normalized(name)
            self.type = type
        }

        public var description: String { "\(self.name) \(self.type)" }
    }

    /// Thrown by lookups in a partial snapshot for a question not asked yet.
    public struct Missing: Error, Sendable, Hashable {
        public let key: Key
    }

    private var answers: [Key: Answer] = [:]
    /// Whether a question absent from the snapshot has no records (true) or has not been
    /// asked yet (false: looking it up throws ``Missing``).
    public var isComplete: Bool

    public init(isComplete: Bool = false) {
        self.isComplete = isComplete
    }

    /// Records `answer` for (`name`, `type`), replacing an earlier one.
    public mutating func set(_ answer: Answer, for key: Key) {
        self.answers[key] = answer
    }

    /// The answer to (`name`, `type`).
    ///
    /// - Throws: ``Missing`` when the snapshot is partial and the question was not asked.
    public func answer(_ name: String, _ type: DNSRecordType) throws(Missing) -> Answer {
        let key = Key(name, type)
        if let answer = self.answers[key] { return answer }
        if self.isComplete { return .records([]) }
        throw Missing(key: key)
    }

    /// Lower case without a trailing dot: DNS names compare case-insensitively (RFC 4343).
    public static func normalized(_ name: String) -> String {
        var name = name.lowercased()
        while name.count > 1, name.hasSuffix(".") { name.removeLast() }
        return name
    }
}

extension DNSSnapshot.Answer {
    /// The records, or none for NXDOMAIN or a failure.
    public var records: [DNSRecordData] {
        if case .records(let records) = self { return records }
        return []
    }

    /// The failure text when the question got no answer.
    public var failure: String? {
        if case .failed(let why) = self { return why }
        return nil
    }

    /// Whether the name exists with no records of the type, or does not exist: an SPF
    /// "void lookup" (RFC 7208 §4.6.4).
    public var isEmpty: Bool {
        switch self {
        case .records(let records): return records.isEmpty
        case .nameDoesNotExist: return true
        case .failed: return false
        }
    }

    /// Each TXT record's character-strings joined into one string (RFC 7208 §3.3,
    /// RFC 6376 §3.6.2.2).
    public var texts: [String] {
        self.records.compactMap { data in
            guard case .txt(let strings) = data else { return nil }
            return DNSResolver.joinedText(strings)
        }
    }

    /// A and AAAA addresses as octets.
    public var addresses: [[UInt8]] {
        self.records.compactMap { data in
            switch data {
            case .a(let bytes), .aaaa(let bytes): return bytes
            default: return nil
            }
        }
    }

    /// MX records, exchange without trailing dot (`.` for a null MX, RFC 7505).
    public var exchanges: [MXRecord] {
        self.records.compactMap { data in
            guard case .mx(let preference, let exchange) = data else { return nil }
            return MXRecord(preference: preference, exchange: exchange.description)
        }.sorted { ($0.preference, $0.exchange) < ($1.preference, $1.exchange) }
    }

    /// PTR targets without trailing dot.
    public var pointers: [String] {
        self.records.compactMap { data in
            guard case .ptr(let target) = data else { return nil }
            return target.description
        }
    }
}
