/// `host:port` and `[v6]:port`, as addresses are written in the configuration (listeners,
/// Sentinels, the metrics endpoint). An unbracketed IPv6 literal is refused: its last
/// colon cannot be told from the port's.
public enum HostPort {
    /// The host (without brackets) and port; nil if malformed. The port is 1-65535, or
    /// also 0 (any free port) with `allowingPortZero`.
    public static func parse(_ text: String, allowingPortZero: Bool = false) -> (host: String, port: Int)? {
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
            if host.contains(":") { return nil }
        }
        guard !host.isEmpty, !portText.isEmpty, portText.allSatisfy({ $0.isASCII && $0.isNumber }),
            let port = Int(portText), ((allowingPortZero ? 0 : 1)...65535).contains(port)
        else { return nil }
        return (String(host), port)
    }
}
