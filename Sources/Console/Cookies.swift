/// Cookies the console reads and sets (RFC 6265).
///
/// - `hk_session`: the session id (32 random bytes, hex), `HttpOnly; SameSite=Lax; Path=/`,
///   and `Secure` when served over HTTPS. No `Max-Age`: the session ends in Redis after
///   `console.session_ttl`, or when the browser closes.
/// - `hk_login`: the login form's CSRF token before there is a session (double submit).
/// - `hk_lang`: `ja` or `en`, set by the language switch link.
/// - `hk_tz`: the viewer's IANA time zone, set by one line of script (times fall back to
///   the language's zone without it).
public enum ConsoleCookies {
    public static let session = "hk_session"
    public static let login = "hk_login"
    public static let language = "hk_lang"
    public static let timeZone = "hk_tz"

    /// The `Cookie:` header's pairs (RFC 6265 §4.2.1: `name=value; name=value`). A name
    /// given twice keeps its first value (the most specific path, §5.4).
    public static func parse(_ header: String?) -> [String: String] {
        guard let header else { return [:] }
        var cookies: [String: String] = [:]
        for pair in header.split(separator: ";") {
            guard let equals = pair.firstIndex(of: "=") else { continue }
            let name = pair[..<equals].trimmingCharacters(in: .whitespaces)
            var value = pair[pair.index(after: equals)...].trimmingCharacters(in: .whitespaces)
            if value.count >= 2, value.hasPrefix("\""), value.hasSuffix("\"") { value = String(value.dropFirst().dropLast()) }
            guard !name.isEmpty, cookies[name] == nil else { continue }
            cookies[name] = value
        }
        return cookies
    }

    /// A `Set-Cookie:` value. `maxAge` 0 deletes the cookie.
    public static func setCookie(name: String, value: String, secure: Bool, httpOnly: Bool = true, maxAge: Int? = nil) -> String {
        var parts = ["\(name)=\(value)", "Path=/", "SameSite=Lax"]
        if httpOnly { parts.append("HttpOnly") }
        if secure { parts.append("Secure") }
        if let maxAge { parts.append("Max-Age=\(maxAge)") }
        return parts.joined(separator: "; ")
    }

    /// Whether `value` looks like an id this console made (64 lowercase hex digits): anything
    /// else never reaches Redis as part of a key.
    public static func isWellFormedID(_ value: String) -> Bool {
        value.utf8.count == 64 && value.utf8.allSatisfy { ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x66) }
    }
}

/// Random ids and tokens, and their comparison.
public enum ConsoleToken {
    /// 32 bytes from the system's CSPRNG, as 64 hex digits.
    public static func random() -> String {
        var generator = SystemRandomNumberGenerator()
        return (0..<32).map { _ in
            let byte = UInt8.random(in: 0...255, using: &generator)
            return String(byte >> 4, radix: 16) + String(byte & 0xF, radix: 16)
        }.joined()
    }

    /// Constant-time equality, so a form's token cannot be guessed byte by byte from timing.
    public static func matches(_ given: String?, _ expected: String) -> Bool {
        guard let given else { return false }
        let a = Array(given.utf8)
        let b = Array(expected.utf8)
        guard a.count == b.count, !b.isEmpty else { return false }
        var difference: UInt8 = 0
        for i in 0..<a.count { difference |= a[i] ^ b[i] }
        return difference == 0
    }
}
