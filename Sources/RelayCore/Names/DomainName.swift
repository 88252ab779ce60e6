/// A recipient domain as the queue keys it: lower case, without the trailing dot of an
/// absolute name (domain names compare case-insensitively, RFC 1035 §2.3.3). One stream,
/// one claim and one MX lookup per (pool, domain). Every way of making one normalises,
/// so two spellings of a domain are always the same value.
public struct DomainName: StringIdentifier {
    public let rawValue: String

    public init(rawValue: String) {
        var domain = rawValue.lowercased()
        while domain.hasSuffix(".") { domain.removeLast() }
        self.rawValue = domain
    }

    /// A domain as written in an address, the configuration or on the command line.
    public init(normalizing text: some StringProtocol) {
        self.init(rawValue: String(text))
    }
}
