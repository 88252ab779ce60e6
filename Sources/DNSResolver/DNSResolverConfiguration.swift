import NIOCore

/// How a ``DNSResolver`` reaches its recursive servers.
public struct DNSResolverConfiguration: Sendable {
    /// The standard DNS port (RFC 1035 §4.2).
    public static let defaultPort = 53
    /// Where ``systemDefault()`` reads nameservers.
    public static let resolvConfPath = "/etc/resolv.conf"

    /// Recursive servers, tried in order. Default: the `nameserver` lines of
    /// `/etc/resolv.conf` (port 53), or `127.0.0.1:53` when there are none.
    public var servers: [SocketAddress]
    /// How long to wait for each attempt (one UDP exchange, plus the TCP retry when the
    /// reply is truncated).
    public var timeout: Duration = .seconds(3)
    /// Attempts per server before moving to the next.
    public var attempts: Int = 2
    /// Whether to cache answers for their TTL, clamped to 1 s…1 h; negative answers for
    /// the SOA minimum of RFC 2308 §5, at most 5 min.
    public var cacheEnabled: Bool = true
    /// The most questions kept in the cache.
    public var cacheCapacity: Int = 10_000
    /// Ask for DNSSEC (DO and AD bits, RFC 3225 / RFC 6840 §5.7) and report the AD bit of
    /// answers (``DNSResolver/tlsa(_:)``, ``MailExchanger/isAuthenticated``). Only
    /// meaningful when every server is a validating resolver the caller trusts.
    public var requestDNSSEC: Bool = false

    public init(servers: [SocketAddress]) {
        self.servers = servers
    }

    /// The system default: the same as ``systemDefault()`` (reads `/etc/resolv.conf`).
    public init() {
        self = Self.systemDefault()
    }

    /// The servers of `/etc/resolv.conf`, or `127.0.0.1:53` when it names none. Reads the
    /// file synchronously: call it while starting up, not on an event loop.
    public static func systemDefault() -> DNSResolverConfiguration {
        let servers = ResolvConf.contents(ofFile: Self.resolvConfPath).map(ResolvConf.nameservers(in:)) ?? []
        return DNSResolverConfiguration(servers: servers.isEmpty ? [Self.loopbackServer] : servers)
    }

    static var loopbackServer: SocketAddress {
        try! SocketAddress(ipAddress: "127.0.0.1", port: Self.defaultPort)
    }

    /// Parses a server address: `127.0.0.1:5353`, `[::1]:53`, `10.0.0.1` or `::1` (both
    /// port 53).
    ///
    /// - Throws: ``DNSError`` with code ``DNSError/Code/invalidServerAddress``.
    public static func parse(server: String) throws -> SocketAddress {
        let text = server.trimmingWhitespace()
        var host = Substring(text)
        var port = Self.defaultPort
        func invalid(_ why: String) -> DNSError {
            DNSError(.invalidServerAddress, "\"\(server)\": \(why)")
        }
        func parsePort(_ digits: Substring) throws -> Int {
            guard let value = Int(digits), (1...65535).contains(value) else {
                throw invalid("port must be 1-65535")
            }
            return value
        }
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else { throw invalid("missing ]") }
            host = text[text.index(after: text.startIndex)..<close]
            let rest = text[text.index(after: close)...]
            if !rest.isEmpty {
                guard rest.hasPrefix(":") else { throw invalid("expected :port after ]") }
                port = try parsePort(rest.dropFirst())
            }
        } else if text.filter({ $0 == ":" }).count == 1, let colon = text.firstIndex(of: ":") {
            host = text[..<colon]
            port = try parsePort(text[text.index(after: colon)...])
        }
        guard !host.isEmpty else { throw invalid("no address") }
        do {
            return try SocketAddress(ipAddress: String(host), port: port)
        } catch {
            throw invalid("not an IPv4 or IPv6 address")
        }
    }
}

extension String {
    func trimmingWhitespace() -> String {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\r" || $0 == "\n" }
        guard let first = self.firstIndex(where: { !isSpace($0) }),
            let last = self.lastIndex(where: { !isSpace($0) })
        else { return "" }
        return String(self[first...last])
    }
}
