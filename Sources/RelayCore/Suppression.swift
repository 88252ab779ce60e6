/// Why an address is on a suppression list: mail to it is refused at `RCPT` and dropped at
/// the enqueue (README "Suppression lists").
public enum SuppressionReason: String, Sendable, Codable, CaseIterable, Hashable {
    /// A permanent failure of class invalid recipient (not a block: that is the sender's IP's
    /// problem, not the address's).
    case hardBounce = "hard_bounce"
    /// The recipient reported the mail as spam (an ARF report, RFC 5965).
    case complaint
    /// The recipient asked to receive no more (RFC 8058 one-click, or the sender's own list).
    case unsubscribe
    /// Added by an operator or an API client.
    case manual
}

/// Which list: an account's own, or the global one every account's mail is checked against.
public enum SuppressionScope: Sendable, Hashable, CustomStringConvertible {
    case account(String)
    case global

    /// The list's name in key names: the account name, or `@global` (an account name
    /// cannot contain `@`).
    public var listName: String {
        switch self {
        case .account(let name): name
        case .global: "@global"
        }
    }

    public var description: String {
        switch self {
        case .account(let name): "account \(name)"
        case .global: "the global list"
        }
    }
}

/// One suppressed address. Stored as compact JSON (`{"reason":…,"created_at":…}`) in the
/// list's hash under the lower-cased address.
public struct SuppressionEntry: Sendable, Hashable, Codable {
    /// Lower-cased (ASCII only: the Redis function compares bytes the same way).
    public var address: String
    public var reason: SuppressionReason
    /// When it was added (RFC 3339, UTC).
    public var createdAt: String
    /// The event or queue id it came from, if any.
    public var source: String?
    /// When it stops applying (RFC 3339, UTC); nil: never.
    public var expiresAt: String?

    enum CodingKeys: String, CodingKey { case reason, createdAt = "created_at", source, expiresAt = "expires_at" }

    public init(address: String, reason: SuppressionReason, createdAt: String, source: String? = nil, expiresAt: String? = nil) {
        self.address = Self.normalize(address)
        self.reason = reason
        self.createdAt = createdAt
        self.source = source
        self.expiresAt = expiresAt
    }

    /// The stored value (without the address, which is the hash field).
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        address = ""
        reason = try c.decode(SuppressionReason.self, forKey: .reason)
        createdAt = try c.decode(String.self, forKey: .createdAt)
        source = try c.decodeIfPresent(String.self, forKey: .source)
        expiresAt = try c.decodeIfPresent(String.self, forKey: .expiresAt)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(reason, forKey: .reason)
        try c.encode(createdAt, forKey: .createdAt)
        try c.encodeIfPresent(source, forKey: .source)
        try c.encodeIfPresent(expiresAt, forKey: .expiresAt)
    }

    /// The address as a list key: ASCII letters lower-cased, nothing else touched (the
    /// local part of an SMTPUTF8 address keeps its bytes; the Lua side does the same).
    public static func normalize(_ address: String) -> String {
        String(decoding: address.utf8.map { (0x41...0x5A).contains($0) ? $0 + 0x20 : $0 }, as: UTF8.self)
    }

    /// The expiry in ms since 1970, if any and readable.
    public var expiresAtMilliseconds: Int64? { expiresAt.flatMap(WallClock.milliseconds(iso8601:)) }

    /// Whether it no longer applies at `now` (ms).
    public func isExpired(at now: Int64) -> Bool {
        guard let expiry = expiresAtMilliseconds else { return false }
        return expiry <= now
    }

    /// The date shown in the `RCPT` refusal: `2026-12-01`.
    public var createdDate: String { String(createdAt.prefix(10)) }

    /// The compact JSON stored in Redis.
    public func json() -> String {
        var out = #"{"reason":"\#(reason.rawValue)","created_at":\#(Self.jsonString(createdAt))"#
        if let source { out += #","source":\#(Self.jsonString(source))"# }
        if let expiresAt { out += #","expires_at":\#(Self.jsonString(expiresAt))"# }
        return out + "}"
    }

    static func jsonString(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case _ where scalar.value < 0x20:
                out += "\\u" + String(repeating: "0", count: 4 - String(scalar.value, radix: 16).count) + String(scalar.value, radix: 16)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}
