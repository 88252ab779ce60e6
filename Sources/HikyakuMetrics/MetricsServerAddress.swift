/// A `host:port` listening address, as written in the configuration.
///
/// IPv6 literals are bracketed (`[::1]:9464`); the port may be `0` (any free port).
struct MetricsServerAddress: Hashable, Sendable, CustomStringConvertible {
    let host: String
    let port: Int

    /// Parses `127.0.0.1:9464`, `metrics.local:9464` or `[::1]:9464`; nil if malformed.
    init?(_ text: String) {
        let host: Substring
        let portText: Substring
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else { return nil }
            host = text[text.index(after: text.startIndex)..<close]
            let rest = text[text.index(after: close)...]
            guard rest.hasPrefix(":") else { return nil }
            portText = rest.dropFirst()
        } else {
            guard let colon = text.lastIndex(of: ":") else { return nil }
            host = text[..<colon]
            portText = text[text.index(after: colon)...]
            guard !host.contains(":") else { return nil }  // an unbracketed IPv6 literal
        }
        guard !host.isEmpty, !portText.isEmpty, portText.allSatisfy({ $0.isASCII && $0.isNumber }),
              let port = Int(portText), port <= 65_535
        else { return nil }
        self.host = String(host)
        self.port = port
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
