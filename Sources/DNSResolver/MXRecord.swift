/// One MX record (RFC 1035 §3.3.9): a mail exchanger host and its preference (lower is
/// tried first).
public struct MXRecord: Sendable, Hashable, CustomStringConvertible {
    public var preference: UInt16
    /// The exchange host without a trailing dot; `.` for a null MX (RFC 7505).
    public var exchange: String

    public init(preference: UInt16, exchange: String) {
        self.preference = preference
        self.exchange = exchange
    }

    /// Whether this is the null MX of RFC 7505 §3 (exchange `.`).
    public var isNullMX: Bool { self.exchange == "." }

    public var description: String { "\(self.preference) \(self.exchange)" }
}
