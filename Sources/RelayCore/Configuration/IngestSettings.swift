/// `ingest:` — the SMTP listeners and who may relay through them.
public struct IngestSettings: Sendable, Codable {
    /// Listening sockets. Default: one `relay` listener on `127.0.0.1:2525`.
    public var listeners: [ListenerSettings]
    /// Client networks allowed to relay without AUTH. Default `127.0.0.0/8` and `::1`.
    public var relayNetworks: [IPNetwork]
    /// Largest message accepted (advertised as SIZE, RFC 1870). Default `25MiB`.
    public var maxMessageSize: ByteSize
    /// Recipients per message; more get `452 4.5.3`. Default 1000.
    public var maxRecipients: Int
    /// A client silent this long is disconnected (`421 4.4.2`). Default `5m`
    /// (RFC 5321 §4.5.3.2.7).
    public var idleTimeout: ConfigDuration
    /// Longest session, however busy. Default `30m`.
    public var sessionTimeout: ConfigDuration
    /// A command line must be complete this long after its first octet, however slowly the
    /// octets trickle in (`421 4.4.2`); also the allowance a DATA phase starts with. Default `60s`.
    public var commandTimeout: ConfigDuration
    /// DATA must arrive at this many octets per second on average: the data phase may last
    /// `command_timeout` plus one second per `min_data_rate` octets received (`421 4.4.2`).
    /// Default `1KiB`.
    public var minDataRate: ByteSize
    /// Concurrent sessions from one client address (IPv6: one /64), over all listeners;
    /// more get `421 4.7.0`. Clients in ``relayNetworks`` are exempt. Default 20.
    public var maxConnectionsPerIP: Int
    /// Longest wait for Redis to accept a message before answering `451 4.3.0`. Default `10s`.
    public var enqueueTimeout: ConfigDuration
    /// Certificate and key for STARTTLS and implicit TLS. Default: none (no TLS offered).
    public var tls: TLSSettings?
    /// SMTP AUTH users for submission. Default: none.
    public var users: [UserSettings]
    /// Offer AUTH on connections without TLS. Default `false`; never enable on the internet.
    public var allowAuthWithoutTLS: Bool
    /// Egress pool for mail from allow-listed clients (no AUTH). Default `default`.
    public var relayPool: PoolName
    /// A message with more `Received:` fields than this is refused at the dot
    /// (`554 5.4.6`, a mail loop, RFC 5321 §6.3); workers bounce a queued one with that
    /// code. The relay's own `Received:` is not counted. Default 30.
    public var maxReceivedHeaders: Int

    enum CodingKeys: String, CodingKey, CaseIterable {
        case listeners, relayNetworks = "relay_networks", maxMessageSize = "max_message_size"
        case maxRecipients = "max_recipients", idleTimeout = "idle_timeout", sessionTimeout = "session_timeout"
        case commandTimeout = "command_timeout", minDataRate = "min_data_rate", maxConnectionsPerIP = "max_connections_per_ip"
        case enqueueTimeout = "enqueue_timeout", tls, users, allowAuthWithoutTLS = "allow_auth_without_tls"
        case relayPool = "relay_pool", maxReceivedHeaders = "max_received_headers"
    }

    public init() {
        listeners = [ListenerSettings(name: "relay", address: "127.0.0.1:2525", mode: .relay, tls: nil)]
        relayNetworks = [IPNetwork(parsing: "127.0.0.0/8")!, IPNetwork(parsing: "::1")!]
        maxMessageSize = .mebibytes(25)
        maxRecipients = 1000
        idleTimeout = .minutes(5)
        sessionTimeout = .minutes(30)
        commandTimeout = .seconds(60)
        minDataRate = ByteSize(bytes: 1024)
        maxConnectionsPerIP = 20
        enqueueTimeout = .seconds(10)
        tls = nil
        users = []
        allowAuthWithoutTLS = false
        relayPool = PoolName.default
        maxReceivedHeaders = 30
    }

    public init(from decoder: Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init()
        listeners = try c.decodeIfPresent([ListenerSettings].self, forKey: .listeners) ?? listeners
        relayNetworks = try c.decodeIfPresent([IPNetwork].self, forKey: .relayNetworks) ?? relayNetworks
        maxMessageSize = try c.decodeIfPresent(ByteSize.self, forKey: .maxMessageSize) ?? maxMessageSize
        maxRecipients = try c.decodeIfPresent(Int.self, forKey: .maxRecipients) ?? maxRecipients
        idleTimeout = try c.decodeIfPresent(ConfigDuration.self, forKey: .idleTimeout) ?? idleTimeout
        sessionTimeout = try c.decodeIfPresent(ConfigDuration.self, forKey: .sessionTimeout) ?? sessionTimeout
        commandTimeout = try c.decodeIfPresent(ConfigDuration.self, forKey: .commandTimeout) ?? commandTimeout
        minDataRate = try c.decodeIfPresent(ByteSize.self, forKey: .minDataRate) ?? minDataRate
        maxConnectionsPerIP = try c.decodeIfPresent(Int.self, forKey: .maxConnectionsPerIP) ?? maxConnectionsPerIP
        enqueueTimeout = try c.decodeIfPresent(ConfigDuration.self, forKey: .enqueueTimeout) ?? enqueueTimeout
        tls = try c.decodeIfPresent(TLSSettings.self, forKey: .tls) ?? tls
        users = try c.decodeIfPresent([UserSettings].self, forKey: .users) ?? users
        allowAuthWithoutTLS = try c.decodeIfPresent(Bool.self, forKey: .allowAuthWithoutTLS) ?? allowAuthWithoutTLS
        relayPool = try c.decodeIfPresent(PoolName.self, forKey: .relayPool) ?? relayPool
        maxReceivedHeaders = try c.decodeIfPresent(Int.self, forKey: .maxReceivedHeaders) ?? maxReceivedHeaders
    }

    func validate() throws {
        var names = Set<String>()
        var addresses = Set<String>()
        for (index, listener) in listeners.enumerated() {
            let key = "ingest.listeners[\(index)]"
            try listener.validate(key: key)
            if !names.insert(listener.name).inserted {
                throw ConfigurationError(key: "\(key).name", problem: "'\(listener.name)' is used by another listener")
            }
            if !addresses.insert(listener.address).inserted {
                throw ConfigurationError(key: "\(key).address", problem: "'\(listener.address)' is used by another listener")
            }
            if listener.effectiveTLS(tlsConfigured: tls != nil) != .none, tls == nil {
                throw ConfigurationError(
                    key: "\(key).tls", problem: "'\(listener.tls!.rawValue)' needs ingest.tls.certificate and ingest.tls.private_key")
            }
            if listener.mode == .submission, tls == nil, !allowAuthWithoutTLS {
                throw ConfigurationError(
                    key: "\(key).mode",
                    problem:
                        "a submission listener needs ingest.tls (AUTH is only offered after TLS) or ingest.allow_auth_without_tls: true")
            }
        }
        if maxMessageSize.bytes < 1024 {
            throw ConfigurationError(key: "ingest.max_message_size", problem: "must be at least 1KiB")
        }
        if maxRecipients < 1 {
            throw ConfigurationError(key: "ingest.max_recipients", problem: "must be at least 1")
        }
        if commandTimeout.milliseconds < 1000 {
            throw ConfigurationError(key: "ingest.command_timeout", problem: "must be at least 1s")
        }
        if minDataRate.bytes < 1 {
            throw ConfigurationError(key: "ingest.min_data_rate", problem: "must be at least 1 octet per second, e.g. 1KiB")
        }
        if maxConnectionsPerIP < 1 {
            throw ConfigurationError(key: "ingest.max_connections_per_ip", problem: "must be at least 1")
        }
        if enqueueTimeout.milliseconds < 100 {
            throw ConfigurationError(key: "ingest.enqueue_timeout", problem: "must be at least 100ms")
        }
        for (index, user) in users.enumerated() {
            try user.validate(key: "ingest.users[\(index)]")
        }
        try PoolName.validate(relayPool.rawValue, key: "ingest.relay_pool")
        if !(1...1000).contains(maxReceivedHeaders) {
            throw ConfigurationError(key: "ingest.max_received_headers", problem: "must be between 1 and 1000")
        }
    }
}

/// One SMTP listening socket.
public struct ListenerSettings: Sendable, Codable, Hashable {
    public enum Mode: String, Sendable, Codable, CaseIterable {
        /// Port 25 style: allow-listed networks relay; others must AUTH (after TLS) or are refused `550 5.7.1`.
        case relay
        /// Port 587/465 style: everyone must AUTH (allow-listed networks too); others get `530 5.7.0`.
        case submission
    }
    public enum TLSMode: String, Sendable, Codable, CaseIterable {
        case none
        /// Offer STARTTLS (RFC 3207).
        case starttls
        /// TLS from the first byte (RFC 8314, port 465).
        case implicit
    }

    /// A label for logs. Required, unique.
    public var name: String
    /// `host:port` or `[v6]:port`.
    public var address: String
    public var mode: Mode
    /// Default: `starttls` when `ingest.tls` is set, else `none`.
    public var tls: TLSMode?

    enum CodingKeys: String, CodingKey, CaseIterable { case name, address, mode, tls }

    public init(name: String, address: String, mode: Mode, tls: TLSMode?) {
        self.name = name
        self.address = address
        self.mode = mode
        self.tls = tls
    }

    public init(from decoder: Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        address = try c.decode(String.self, forKey: .address)
        name = try c.decodeIfPresent(String.self, forKey: .name) ?? address
        mode = try c.decodeIfPresent(Mode.self, forKey: .mode) ?? .relay
        tls = try c.decodeIfPresent(TLSMode.self, forKey: .tls)
    }

    public func effectiveTLS(tlsConfigured: Bool) -> TLSMode {
        tls ?? (tlsConfigured ? .starttls : .none)
    }

    /// Splits `address` into host and port.
    public var hostAndPort: (host: String, port: Int)? { HostPort.parse(address) }

    func validate(key: String) throws {
        guard hostAndPort != nil else {
            throw ConfigurationError(key: "\(key).address", problem: "'\(address)' is not host:port (e.g. 0.0.0.0:25 or [::]:587)")
        }
    }
}

/// `ingest.tls:` — PEM files for the listeners' TLS.
public struct TLSSettings: Sendable, Codable, Hashable {
    public var certificate: String
    public var privateKey: String
    /// How often the files are checked for changes (a renewed certificate is used by new
    /// connections without a restart; SIGHUP reloads at once). Default 1m.
    public var reloadInterval: ConfigDuration

    enum CodingKeys: String, CodingKey, CaseIterable { case certificate, privateKey = "private_key", reloadInterval = "reload_interval" }

    public init(certificate: String, privateKey: String, reloadInterval: ConfigDuration = .minutes(1)) {
        self.certificate = certificate
        self.privateKey = privateKey
        self.reloadInterval = reloadInterval
    }

    public init(from decoder: Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        certificate = try c.decode(String.self, forKey: .certificate)
        privateKey = try c.decode(String.self, forKey: .privateKey)
        reloadInterval = try c.decodeIfPresent(ConfigDuration.self, forKey: .reloadInterval) ?? .minutes(1)
        if reloadInterval.milliseconds < 1000 {
            throw ConfigurationError(key: "ingest.tls.reload_interval", problem: "must be at least 1s")
        }
    }
}

/// `ingest.users[]` — one SMTP AUTH login.
public struct UserSettings: Sendable, Codable, Hashable, CustomStringConvertible {
    public var username: String
    /// A crypt(3) hash: yescrypt (`$y$…`, from `hikyaku passwd`) or SHA-512-crypt
    /// (`$6$…`, from `openssl passwd -6`). Plain passwords are refused.
    public var passwordHash: String
    /// Egress pool for this account's mail. Default `default`.
    public var pool: PoolName

    enum CodingKeys: String, CodingKey, CaseIterable { case username, passwordHash = "password_hash", pool }

    /// Without the hash, so a logged configuration never carries it.
    public var description: String { "UserSettings(username: \(username), pool: \(pool))" }

    public init(username: String, passwordHash: String, pool: PoolName = .default) {
        self.username = username
        self.passwordHash = passwordHash
        self.pool = pool
    }

    public init(from decoder: Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        username = try c.decode(String.self, forKey: .username)
        passwordHash = try c.decode(String.self, forKey: .passwordHash)
        pool = try c.decodeIfPresent(PoolName.self, forKey: .pool) ?? .default
    }

    func validate(key: String) throws {
        if username.isEmpty {
            throw ConfigurationError(key: "\(key).username", problem: "must not be empty")
        }
        let accepted = ["$y$", "$6$", "$5$", "$2b$", "$7$", "$gy$"]
        if !accepted.contains(where: passwordHash.hasPrefix) {
            throw ConfigurationError(
                key: "\(key).password_hash",
                problem:
                    "must be a crypt(3) hash such as the output of `hikyaku passwd` ($y$…) or `openssl passwd -6` ($6$…), never a plain password"
            )
        }
        try PoolName.validate(pool.rawValue, key: "\(key).pool")
    }
}
