/// Where a Redis server is and how to log in to it.
///
/// Parsed from a URL of the form `redis[s]://[[user]:password@]host[:port][/db]`
/// (the IANA `redis` and `rediss` URI schemes, without query parameters):
///
/// ```
/// redis://127.0.0.1                      → 127.0.0.1:6379, db 0, no AUTH
/// redis://:s3cret@redis.internal:6380/2  → AUTH s3cret, SELECT 2
/// redis://relay:s3cret@[::1]/0           → AUTH relay s3cret
/// rediss://worker:s3cret@10.0.0.11:6380  → TLS (see ``RedisTLS``), AUTH worker s3cret
/// ```
///
/// User and password may be percent-encoded (`%40` for `@`). The ``description``
/// masks the password, so an endpoint is safe to log; so are the parse errors, which
/// never quote the user-info part.
public struct RedisEndpoint: Sendable, Hashable, CustomStringConvertible {
    public static let defaultPort = 6379

    public var host: String
    public var port: Int
    /// Sent with `AUTH`; `nil` means no `AUTH`.
    public var password: String?
    /// The ACL user for `AUTH user password` (Redis 6+); `nil` means the default user.
    public var username: String?
    /// The logical database to `SELECT` after connecting (0 needs no `SELECT`).
    public var database: Int
    /// `rediss://`: the connection (and any Sentinel's) runs over TLS.
    public var usesTLS: Bool

    public init(
        host: String,
        port: Int = RedisEndpoint.defaultPort,
        username: String? = nil,
        password: String? = nil,
        database: Int = 0,
        usesTLS: Bool = false
    ) {
        self.usesTLS = usesTLS
        self.host = host
        self.port = port
        self.username = username
        self.password = password
        self.database = database
    }

    /// Parses `redis[s]://[[user]:password@]host[:port][/db]`.
    ///
    /// - Throws: ``RedisError/Kind/invalidEndpoint`` naming what is wrong (never quoting
    ///   the password).
    public init(url: String) throws(RedisError) {
        guard let schemeEnd = url.firstRange(of: "://") else {
            throw .invalidEndpoint("'\(Self.masked(url))' does not start with redis:// or rediss://")
        }
        let scheme = url[..<schemeEnd.lowerBound].lowercased()
        switch scheme {
        case "redis", "rediss":
            break
        default:
            throw .invalidEndpoint("unsupported scheme '\(Self.masked(scheme))://'; expected redis:// or rediss://")
        }
        var rest = url[schemeEnd.upperBound...]

        // User info: everything up to the last '@' (a password may hold '/', '?' or '#'
        // unencoded; splitting there first keeps it out of every later message).
        var username: String?
        var password: String?
        if let at = rest.lastIndex(of: "@") {
            let userInfo = rest[..<at]
            rest = rest[rest.index(after: at)...]
            guard let colon = userInfo.firstIndex(of: ":") else {
                throw .invalidEndpoint("user info must be ':password' or 'user:password' (missing ':')")
            }
            let user = try Self.percentDecoded(userInfo[..<colon], what: "user name")
            username = user.isEmpty ? nil : user
            password = try Self.percentDecoded(userInfo[userInfo.index(after: colon)...], what: "password")
        }
        if rest.contains("?") || rest.contains("#") {
            throw .invalidEndpoint("query parameters and fragments are not supported")
        }

        // Authority and path.
        var path: Substring = ""
        if let slash = rest.firstIndex(of: "/") {
            path = rest[rest.index(after: slash)...]
            rest = rest[..<slash]
        }

        // Host and port.
        var host: Substring
        var portText: Substring?
        if rest.hasPrefix("[") {
            guard let close = rest.firstIndex(of: "]") else {
                throw .invalidEndpoint("IPv6 host '\(rest)' is missing its closing ']'")
            }
            host = rest[rest.index(after: rest.startIndex)..<close]
            let after = rest[rest.index(after: close)...]
            if !after.isEmpty {
                guard after.first == ":" else {
                    throw .invalidEndpoint("unexpected '\(after)' after IPv6 host")
                }
                portText = after.dropFirst()
            }
        } else if let colon = rest.firstIndex(of: ":") {
            host = rest[..<colon]
            portText = rest[rest.index(after: colon)...]
        } else {
            host = rest
        }
        guard !host.isEmpty else {
            throw .invalidEndpoint("missing host")
        }
        var port = Self.defaultPort
        if let portText {
            guard let parsed = Int(portText), (1...65535).contains(parsed), portText.allSatisfy(\.isASCIIDigit) else {
                throw .invalidEndpoint("invalid port '\(portText)' (expected 1-65535)")
            }
            port = parsed
        }

        var database = 0
        if !path.isEmpty {
            guard let parsed = Int(path), parsed >= 0, path.allSatisfy(\.isASCIIDigit) else {
                throw .invalidEndpoint("invalid database '\(path)' (expected a number >= 0)")
            }
            database = parsed
        }

        self.init(
            host: String(host), port: port, username: username, password: password, database: database,
            usesTLS: scheme == "rediss")
    }

    /// `redis://user:***@host:port/db` (`rediss://` with TLS), never showing the password.
    public var description: String {
        var text = usesTLS ? "rediss://" : "redis://"
        if password != nil {
            text += "\(username ?? ""):***@"
        }
        text += host.contains(":") ? "[\(host)]" : host
        text += ":\(port)"
        if database != 0 {
            text += "/\(database)"
        }
        return text
    }

    private static func percentDecoded(_ text: Substring, what: String) throws(RedisError) -> String {
        guard text.contains("%") else { return String(text) }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(text.utf8.count)
        var iterator = text.utf8.makeIterator()
        while let byte = iterator.next() {
            guard byte == UInt8(ascii: "%") else {
                bytes.append(byte)
                continue
            }
            guard let high = iterator.next().flatMap(Self.hexValue), let low = iterator.next().flatMap(Self.hexValue)
            else {
                throw .invalidEndpoint("bad percent-encoding in the \(what)")
            }
            bytes.append(high << 4 | low)
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }

    /// The text with everything up to its last `@` hidden, for error messages.
    private static func masked(_ text: some StringProtocol) -> String {
        guard let at = text.lastIndex(of: "@") else { return String(text) }
        return "***" + text[at...]
    }
}

extension Character {
    fileprivate var isASCIIDigit: Bool {
        isASCII && isNumber
    }
}
