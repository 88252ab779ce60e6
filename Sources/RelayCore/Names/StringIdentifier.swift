/// A name the relay keeps in Redis keys, stream fields and events — a pool, a site, an
/// egress address, a lease — typed so that one cannot be passed where another is meant.
/// The raw value is what is stored and shown; it is written and read in one place each
/// (``QueueKeys``, the queue's decoding, the event's JSON).
///
/// String literals are accepted for constants in code and tests; names that come from
/// outside (configuration, the command line) are checked by the type's `validate`.
public protocol StringIdentifier: RawRepresentable<String>, Hashable, Sendable, Comparable, Codable,
    CustomStringConvertible, ExpressibleByStringLiteral
{
    init(rawValue: String)
}

extension StringIdentifier {
    public init(stringLiteral value: String) { self.init(rawValue: value) }
    public var description: String { rawValue }
    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.rawValue < rhs.rawValue }

    public init(from decoder: any Decoder) throws {
        self.init(rawValue: try decoder.singleValueContainer().decode(String.self))
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }
}
