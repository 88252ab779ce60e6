/// One source address of a worker host as limits and leases know it: the IP address
/// (`delivery.egress[].address`), or `host:<hostname>` when a host configures none and
/// the system picks the source address. Per-IP rates, warm-up caps and connection
/// leases are kept under this name, so two hosts sharing an IP share its limits.
public struct EgressID: StringIdentifier {
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }

    /// The name of a host without configured egress addresses.
    public static func host(_ hostname: String) -> EgressID { EgressID(rawValue: "host:" + hostname) }
}
