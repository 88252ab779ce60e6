import RelayCore

/// A `host:port` listening address, as written in the configuration.
///
/// IPv6 literals are bracketed (`[::1]:9464`); the port may be `0` (any free port).
struct MetricsServerAddress: Hashable, Sendable, CustomStringConvertible {
    let host: String
    let port: Int

    /// Parses `127.0.0.1:9464`, `metrics.local:9464` or `[::1]:9464`; nil if malformed.
    init?(_ text: String) {
        guard let parsed = HostPort.parse(text, allowingPortZero: true) else { return nil }
        self.host = parsed.host
        self.port = parsed.port
    }

    /// `host:port`, with an IPv6 host in brackets; `port` replaces the configured port
    /// (the bound one, when the configuration said `0`).
    func description(port: Int) -> String {
        host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
    }

    var description: String {
        description(port: port)
    }
}
