/// One MX host pattern of a site (`delivery.sites[].mx`), e.g. `*.google.com`.
///
/// - `*.example.com` matches every host *under* example.com (`aspmx.l.example.com`,
///   `mx.example.com`) but not `example.com` itself: MX hosts of a provider are
///   subdomains of it, and the bare domain is usually a different (web) host.
/// - `*` alone matches every host (a catch-all site).
/// - Anything else matches only the host written (`mx1.example.net`).
///
/// Comparison ignores case and one trailing dot on the host or the pattern, so the
/// absolute name `ASPMX.L.Google.com.` from a DNS answer matches `*.google.com`.
struct MXPattern: Sendable, Hashable, CustomStringConvertible {
    private enum Kind: Hashable {
        case any
        /// The suffix including its leading dot: `.google.com`.
        case under(String)
        case exactly(String)
    }

    private let kind: Kind

    init(_ text: String) {
        let pattern = MXPattern.normalized(text)
        if pattern == "*" {
            kind = .any
        } else if pattern.hasPrefix("*.") {
            kind = .under(String(pattern.dropFirst()))
        } else {
            kind = .exactly(pattern)
        }
    }

    /// Whether `host` (a name from an MX record) matches.
    func matches(_ host: String) -> Bool {
        matches(normalized: MXPattern.normalized(host))
    }

    /// Whether a host already passed through ``normalized(_:)`` matches.
    func matches(normalized host: String) -> Bool {
        switch kind {
        case .any:
            return !host.isEmpty
        case .under(let suffix):
            return host.count > suffix.count && host.hasSuffix(suffix)
        case .exactly(let name):
            return host == name
        }
    }

    var description: String {
        switch kind {
        case .any: return "*"
        case .under(let suffix): return "*" + suffix
        case .exactly(let name): return name
        }
    }

    /// Lower-cased, surrounding spaces and one trailing dot removed.
    static func normalized(_ name: String) -> String {
        var name = name.trimmingWhitespace().lowercased()
        if name.hasSuffix(".") {
            name.removeLast()
        }
        return name
    }
}

extension String {
    fileprivate func trimmingWhitespace() -> String {
        var s = Substring(self)
        while let first = s.first, first.isWhitespace { s.removeFirst() }
        while let last = s.last, last.isWhitespace { s.removeLast() }
        return String(s)
    }
}
