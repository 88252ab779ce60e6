/// An error from the DNS resolver.
///
/// The resolver distinguishes answers that are facts about the destination (the name does
/// not exist, RFC 1035 §4.1.1 RCODE 3; the domain refuses mail with a null MX, RFC 7505)
/// from failures to obtain an answer (SERVFAIL, REFUSED, timeouts, garbage on the wire).
/// ``isPermanent`` tells the caller which is which: bounce on a permanent error, defer and
/// retry on a temporary one.
///
/// Equality compares ``code`` only.
public struct DNSError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What went wrong.
    public let code: Code
    /// Human-readable detail (the name queried, the server, what was malformed).
    public let detail: String

    init(_ code: Code, _ detail: String) {
        self.code = code
        self.detail = detail
    }

    /// Whether the failure is a fact about the destination (the caller bounces) rather
    /// than a failure to learn it (the caller defers and retries later).
    public var isPermanent: Bool { self.code.isPermanent }

    public var description: String { "\(self.code): \(self.detail)" }

    public static func == (lhs: DNSError, rhs: DNSError) -> Bool { lhs.code == rhs.code }
    public func hash(into hasher: inout Hasher) { hasher.combine(self.code) }

    static func nameDoesNotExist(_ name: DNSName) -> DNSError {
        DNSError(.nameDoesNotExist, "\(name) does not exist (NXDOMAIN)")
    }

    static func noData(_ name: DNSName, _ what: String) -> DNSError {
        DNSError(.noData, "\(name) has no \(what) records")
    }

    static func malformed(_ what: String) -> DNSError {
        DNSError(.malformedResponse, what)
    }
}
