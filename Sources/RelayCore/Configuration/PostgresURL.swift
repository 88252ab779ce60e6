/// `logs.postgres_url`: `postgres://user[:password]@host[:port]/database[?sslmode=…]` (the
/// libpq form, `postgresql://` too). A password may be in the URL or in
/// `logs.postgres_password_file`; ``redacted`` is the only form that goes to logs and errors.
public struct PostgresURL: Sendable, Equatable, CustomStringConvertible {
    /// libpq's `sslmode` values that Hikyaku implements.
    public enum SSLMode: String, Sendable, CaseIterable {
        /// Plain TCP.
        case disable
        /// TLS when the server offers it, without verifying its certificate (libpq's default).
        case prefer
        /// TLS or no connection; the certificate is not verified (as libpq's `require`).
        case require
        /// TLS with the certificate verified against the system's CAs and the host name.
        case verifyFull = "verify-full"
    }

    public var user: String
    public var password: String?
    public var host: String
    public var port: Int
    public var database: String
    public var sslMode: SSLMode

    public static let defaultPort = 5432

    /// Parses `text`; the error never repeats the password.
    public init(parsing text: String) throws(ConfigurationError) {
        func problem(_ what: String) -> ConfigurationError { ConfigurationError(key: "logs.postgres_url", problem: what) }
        var rest = Substring(text)
        let lower = text.lowercased()
        guard let prefix = ["postgres://", "postgresql://"].first(where: { lower.hasPrefix($0) }) else {
            throw problem("must start with postgres:// (postgres://user@host:port/database)")
        }
        rest = rest.dropFirst(prefix.count)
        var query: Substring = ""
        if let mark = rest.firstIndex(of: "?") {
            query = rest[rest.index(after: mark)...]
            rest = rest[..<mark]
        }
        guard let slash = rest.firstIndex(of: "/") else { throw problem("names no database (postgres://user@host:port/database)") }
        database = Self.percentDecoded(rest[rest.index(after: slash)...])
        rest = rest[..<slash]
        guard let at = rest.lastIndex(of: "@") else { throw problem("names no user (postgres://user@host:port/database)") }
        let userInfo = rest[..<at]
        let hostPort = rest[rest.index(after: at)...]
        if let colon = userInfo.firstIndex(of: ":") {
            user = Self.percentDecoded(userInfo[..<colon])
            password = Self.percentDecoded(userInfo[userInfo.index(after: colon)...])
        } else {
            user = Self.percentDecoded(userInfo)
            password = nil
        }
        if hostPort.hasPrefix("["), let close = hostPort.firstIndex(of: "]") {
            host = String(hostPort[hostPort.index(after: hostPort.startIndex)..<close])
            let after = hostPort[hostPort.index(after: close)...]
            guard after.isEmpty || after.hasPrefix(":"), let parsed = after.isEmpty ? Self.defaultPort : Int(after.dropFirst()) else {
                throw problem("has a bad port")
            }
            port = parsed
        } else if let colon = hostPort.lastIndex(of: ":") {
            host = String(hostPort[..<colon])
            guard let parsed = Int(hostPort[hostPort.index(after: colon)...]) else { throw problem("has a bad port") }
            port = parsed
        } else {
            host = String(hostPort)
            port = Self.defaultPort
        }
        guard !user.isEmpty else { throw problem("names no user (postgres://user@host:port/database)") }
        guard !host.isEmpty else { throw problem("names no host") }
        guard !database.isEmpty, !database.contains("/") else { throw problem("names no database (postgres://user@host:port/database)") }
        guard (1...65535).contains(port) else { throw problem("has a bad port") }
        sslMode = .prefer
        for pair in query.split(separator: "&") where !pair.isEmpty {
            let parts = pair.split(separator: "=", maxSplits: 1)
            guard parts.count == 2, parts[0] == "sslmode" else {
                throw problem("supports only the parameter sslmode (got \(parts[0]))")
            }
            guard let mode = SSLMode(rawValue: String(parts[1])) else {
                throw problem("sslmode must be one of \(SSLMode.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            sslMode = mode
        }
    }

    /// The URL with the password, if any, as `***`: for logs and error messages.
    public var redacted: String {
        let hostText = host.contains(":") ? "[\(host)]" : host
        return "postgres://\(user)\(password == nil ? "" : ":***")@\(hostText):\(port)/\(database)"
            + (sslMode == .prefer ? "" : "?sslmode=\(sslMode.rawValue)")
    }

    public var description: String { redacted }

    /// `%XX` sequences decoded (a password with `@` or `/` is written `%40`, `%2F`).
    static func percentDecoded(_ text: Substring) -> String {
        var bytes: [UInt8] = []
        var utf8 = Array(text.utf8)[...]
        while let byte = utf8.popFirst() {
            if byte == UInt8(ascii: "%"), utf8.count >= 2, let value = UInt8(String(decoding: utf8.prefix(2), as: UTF8.self), radix: 16) {
                bytes.append(value)
                utf8 = utf8.dropFirst(2)
            } else {
                bytes.append(byte)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
