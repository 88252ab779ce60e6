/// A connection lease: permission for one SMTP connection from an egress address to a
/// site, counted against the site's `max_connections_per_ip`. Named `<consumer>#<n>`
/// after the worker identity that holds it, so a restarted worker can find and give back
/// the leases of its previous run.
public struct LeaseName: StringIdentifier {
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }

    /// The worker identity (consumer name) that took the lease: everything before the last `#`.
    public var consumer: String {
        guard let hash = rawValue.lastIndex(of: "#") else { return rawValue }
        return String(rawValue[..<hash])
    }
}
