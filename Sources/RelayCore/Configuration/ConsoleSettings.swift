/// `console:` — the web console (README "Web console"), served by the `console` role and
/// by `all` when ``listen`` or ``plainListen`` is set: HTTPS with the ingest certificate
/// (`ingest.tls`), or plain HTTP on a loopback address only (behind a local TLS proxy, or
/// for `make run`), since its session cookies must not cross a network in clear.
public struct ConsoleSettings: Sendable, Codable {
    /// `host:port` sockets for HTTPS. Default: none. Needs `ingest.tls`.
    public var listen: [String]
    /// `host:port` sockets for plain HTTP, on loopback addresses only (`127.0.0.0/8`, `::1`,
    /// `localhost`). Default: none.
    public var plainListen: [String]
    /// How long a login lasts (the session's TTL in Redis; the cookie is a session cookie).
    /// Default `12h`.
    public var sessionTTL: ConfigDuration

    enum CodingKeys: String, CodingKey, CaseIterable {
        case listen, plainListen = "plain_listen", sessionTTL = "session_ttl"
    }

    public init() {
        listen = []
        plainListen = []
        sessionTTL = .hours(12)
    }

    public init(from decoder: Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init()
        listen = try c.decodeIfPresent([String].self, forKey: .listen) ?? listen
        plainListen = try c.decodeIfPresent([String].self, forKey: .plainListen) ?? plainListen
        sessionTTL = try c.decodeIfPresent(ConfigDuration.self, forKey: .sessionTTL) ?? sessionTTL
    }

    /// Whether the console is served at all.
    public var isConfigured: Bool { !listen.isEmpty || !plainListen.isEmpty }

    func validate(tlsConfigured: Bool) throws {
        for (index, address) in listen.enumerated() where HostPort.parse(address) == nil {
            throw ConfigurationError(key: "console.listen[\(index)]", problem: "'\(address)' is not host:port (e.g. 0.0.0.0:8443)")
        }
        for (index, address) in plainListen.enumerated() {
            guard let (host, _) = HostPort.parse(address) else {
                throw ConfigurationError(
                    key: "console.plain_listen[\(index)]", problem: "'\(address)' is not host:port (e.g. 127.0.0.1:8090)")
            }
            guard Self.isLoopback(host) else {
                throw ConfigurationError(
                    key: "console.plain_listen[\(index)]",
                    problem: "'\(host)' is not a loopback address (plain HTTP is for 127.0.0.1 or ::1 only; use console.listen)")
            }
        }
        if !listen.isEmpty, !tlsConfigured {
            throw ConfigurationError(key: "console.listen", problem: "HTTPS needs ingest.tls.certificate and ingest.tls.private_key")
        }
        if let duplicate = Dictionary(grouping: listen + plainListen, by: { $0 }).first(where: { $0.value.count > 1 })?.key {
            throw ConfigurationError(key: "console", problem: "'\(duplicate)' is listed twice")
        }
        if sessionTTL.milliseconds < 60_000 || sessionTTL.milliseconds > 30 * 86_400_000 {
            throw ConfigurationError(key: "console.session_ttl", problem: "must be between 1m and 30d")
        }
    }

    /// `127.0.0.0/8`, `::1` or `localhost`.
    public static func isLoopback(_ host: String) -> Bool {
        if host == "localhost" || host == "::1" { return true }
        guard let bytes = IPNetwork.parseAddress(host) else { return false }
        return bytes.count == 4 && bytes[0] == 127
    }
}
