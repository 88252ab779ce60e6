/// `delivery.mta_sts:` — MTA-STS (RFC 8461): a recipient domain that publishes a policy in
/// `enforce` mode is delivered only to the MX hosts it names, over STARTTLS with a
/// certificate that chains to `delivery.ca_file` and names the MX host; otherwise the
/// recipient is deferred with `4.7.5`.
public struct MTASTSSettings: Sendable, Codable, Equatable {
    /// Look up and apply policies. Default true.
    public var enabled: Bool
    /// Port of the policy host `mta-sts.<domain>` (RFC 8461 §3.3 fixes 443; tests change it).
    public var httpsPort: Int
    /// Bound on one policy fetch: DNS, connect, TLS and the response. Default `10s`.
    public var fetchTimeout: ConfigDuration
    /// Policies kept in memory at most (by domain). Default 10000.
    public var cacheCapacity: Int

    enum CodingKeys: String, CodingKey, CaseIterable {
        case enabled, httpsPort = "https_port", fetchTimeout = "fetch_timeout", cacheCapacity = "cache_capacity"
    }

    public init() {
        enabled = true
        httpsPort = 443
        fetchTimeout = .seconds(10)
        cacheCapacity = 10_000
    }

    public init(from decoder: Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init()
        enabled = try c.decodeIfPresent(Bool.self, forKey: .enabled) ?? enabled
        httpsPort = try c.decodeIfPresent(Int.self, forKey: .httpsPort) ?? httpsPort
        fetchTimeout = try c.decodeIfPresent(ConfigDuration.self, forKey: .fetchTimeout) ?? fetchTimeout
        cacheCapacity = try c.decodeIfPresent(Int.self, forKey: .cacheCapacity) ?? cacheCapacity
    }

    func validate() throws {
        if !(1...65535).contains(httpsPort) {
            throw ConfigurationError(key: "delivery.mta_sts.https_port", problem: "must be a TCP port (1-65535)")
        }
        if fetchTimeout.milliseconds < 100 {
            throw ConfigurationError(key: "delivery.mta_sts.fetch_timeout", problem: "must be at least 100ms")
        }
        if cacheCapacity < 1 {
            throw ConfigurationError(key: "delivery.mta_sts.cache_capacity", problem: "must be at least 1")
        }
    }
}

/// `delivery.dane:` — DANE for SMTP (RFC 7672). Only sound when every server in
/// `delivery.dns_servers` is a DNSSEC-validating resolver the worker trusts (on the same
/// host or over a trusted network): its AD bit is believed, as Postfix does with
/// `smtp_dns_support_level = dnssec`. With a secure MX answer and usable TLSA records
/// (`_<port>._tcp.<mx host>`), STARTTLS is mandatory and the certificate must match one
/// record; otherwise the recipient is deferred with `4.7.5`.
public struct DANESettings: Sendable, Codable, Equatable {
    /// Request DNSSEC (DO bit) and apply TLSA records. Default false.
    public var enabled: Bool

    enum CodingKeys: String, CodingKey, CaseIterable { case enabled }

    public init() { enabled = false }

    public init(from decoder: Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init()
        enabled = try c.decodeIfPresent(Bool.self, forKey: .enabled) ?? enabled
    }
}

/// Where workers find trusted certificate authorities when they must verify a receiver's
/// certificate (MTA-STS, `tls_required` sites). Debian's `ca-certificates` bundle first.
public enum CABundle {
    public static let systemPaths = [
        "/etc/ssl/certs/ca-certificates.crt",  // Debian, Ubuntu (ca-certificates)
        "/etc/pki/tls/certs/ca-bundle.crt",  // Fedora, RHEL
        "/etc/ssl/cert.pem",  // Alpine, macOS
    ]
}
