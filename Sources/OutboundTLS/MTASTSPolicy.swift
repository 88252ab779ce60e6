/// An MTA-STS policy (RFC 8461 §3.2), as served at
/// `https://mta-sts.<domain>/.well-known/mta-sts.txt`:
///
/// ```
/// version: STSv1
/// mode: enforce
/// mx: mail.example.com
/// mx: *.example.net
/// max_age: 86400
/// ```
public struct MTASTSPolicy: Sendable, Hashable {
    public enum Mode: String, Sendable, Hashable {
        /// Deliver only to matching MX hosts over verified TLS (§5).
        case enforce
        /// Deliver as usual, report what would have failed.
        case testing
        /// No policy (a domain withdrawing one, §8.3).
        case none
    }

    public var mode: Mode
    /// The `mx` patterns: a host name, or `*.` and a name matching exactly one more label.
    public var mx: [String]
    /// Seconds the policy may be cached (at most 31557600, §3.2).
    public var maxAge: Int

    public init(mode: Mode, mx: [String], maxAge: Int) {
        self.mode = mode
        self.mx = mx
        self.maxAge = maxAge
    }

    /// The most a policy body may hold; the fetcher stops reading beyond it.
    public static let maximumBodySize = 64 * 1024
    /// RFC 8461 §3.2: max_age is at most one year.
    public static let maximumMaxAge = 31_557_600

    /// Whether `host` (an MX host name) matches one of the policy's `mx` patterns (§4.1):
    /// case-insensitive, without trailing dot; `*.example.com` matches `mx1.example.com`
    /// but neither `example.com` nor `a.b.example.com`.
    public func matches(host: String) -> Bool {
        mx.contains { Self.pattern($0, matches: host) }
    }

    static func pattern(_ pattern: String, matches host: String) -> Bool {
        let host = Self.normalized(host)
        let pattern = Self.normalized(pattern)
        guard !host.isEmpty, !pattern.isEmpty else { return false }
        if pattern.hasPrefix("*.") {
            let suffix = pattern.dropFirst(1)  // ".example.com"
            guard host.hasSuffix(suffix) else { return false }
            let label = host.dropLast(suffix.count)
            return !label.isEmpty && !label.contains(".")
        }
        return host == pattern
    }

    static func normalized(_ name: String) -> String {
        var name = name.lowercased()
        while name.hasSuffix(".") { name.removeLast() }
        return name
    }
}

/// Why a policy body was refused.
public struct MTASTSPolicyError: Error, Hashable, CustomStringConvertible {
    public var description: String
}

extension MTASTSPolicy {
    /// Parses a policy body (§3.2): `key: value` lines ending in LF or CRLF; `version`
    /// (`STSv1`), `mode` and `max_age` required, at least one `mx` unless the mode is
    /// `none`; unknown keys ignored; a repeated key other than `mx` keeps the first value.
    public init(parsing text: String) throws(MTASTSPolicyError) {
        var version: String?
        var mode: String?
        var maxAge: String?
        var mx: [String] = []
        for rawLine in text.split(omittingEmptySubsequences: true, whereSeparator: { $0 == "\n" || $0 == "\r\n" }) {
            let line = rawLine.hasSuffix("\r") ? rawLine.dropLast() : rawLine
            if line.allSatisfy({ $0 == " " || $0 == "\t" || $0 == "\r" }) { continue }
            guard let colon = line.firstIndex(of: ":") else {
                throw MTASTSPolicyError(description: "line without ':' in the policy")
            }
            let key = line[..<colon].trimmingCharacters(in: " \t")
            let value = line[line.index(after: colon)...].trimmingCharacters(in: " \t")
            switch key {
            case "version": version = version ?? value
            case "mode": mode = mode ?? value
            case "max_age": maxAge = maxAge ?? value
            case "mx": mx.append(value)
            default: continue
            }
        }
        guard version == "STSv1" else { throw MTASTSPolicyError(description: "version is not STSv1") }
        guard let modeText = mode, let parsedMode = Mode(rawValue: modeText) else {
            throw MTASTSPolicyError(description: "mode is missing or not enforce, testing or none")
        }
        guard let maxAge, maxAge.count <= 10, maxAge.allSatisfy(\.isASCII), let seconds = Int(maxAge), seconds >= 0 else {
            throw MTASTSPolicyError(description: "max_age is missing or not a number of seconds")
        }
        if parsedMode != .none && mx.isEmpty {
            throw MTASTSPolicyError(description: "no mx pattern in an \(parsedMode.rawValue) policy")
        }
        self.init(mode: parsedMode, mx: mx, maxAge: min(seconds, Self.maximumMaxAge))
    }
}
