import Foundation
import RelayCore

/// A campaign's definition, as `campaign create` (or `POST /v1/campaigns`) made it and
/// Redis keeps it (`camp:<id>` field `def`, JSON). Its progress lives beside it
/// (``CampaignState``, the cursor, the done bitmap and the counters).
public struct Campaign: Codable, Sendable, Equatable {
    public var id: String
    public var account: String
    public var name: String
    /// The author: an address, optionally with a display name.
    public var fromAddress: String
    public var fromName: String?
    public var subject: String
    public var html: String?
    public var text: String?
    public var list: String
    /// When sending may begin (ms since 1970).
    public var startAt: Int64
    public var maxRate: Rate?
    public var window: SendWindow?
    /// The egress pool; nil: the account's.
    public var pool: String?
    public var createdAt: Int64

    enum CodingKeys: String, CodingKey {
        case id, account, name, fromAddress = "from", fromName = "from_name", subject, html, text, list
        case startAt = "start_at", maxRate = "max_rate", window, pool, createdAt = "created_at"
    }

    public init(
        id: String, account: String, name: String, fromAddress: String, fromName: String? = nil, subject: String, html: String?,
        text: String?, list: String, startAt: Int64, maxRate: Rate? = nil, window: SendWindow? = nil, pool: String? = nil,
        createdAt: Int64
    ) {
        self.id = id
        self.account = account
        self.name = name
        self.fromAddress = fromAddress
        self.fromName = fromName
        self.subject = subject
        self.html = html
        self.text = text
        self.list = list
        self.startAt = startAt
        self.maxRate = maxRate
        self.window = window
        self.pool = pool
        self.createdAt = createdAt
    }

    /// A new id: `c` and 12 lower-case base32 characters (time-ordered, then random).
    public static func newID(now: Int64) -> String {
        var rng = SystemRandomNumberGenerator()
        return "c" + QueueID.generate(milliseconds: now, random: &rng).rawValue.suffix(12).lowercased()
    }

    /// The `Message-ID:` of a row's message, derived from the campaign and row (RFC 5322
    /// §3.6.4): a resend after a crash carries the same one.
    public func messageID(row: Int, hostname: String) -> String { "\(id).\(row)@\(hostname)" }

    public func encoded() -> String { String(decoding: (try? JSONEncoder().encode(self)) ?? Data(), as: UTF8.self) }
    public static func decode(_ json: String) -> Campaign? { try? JSONDecoder().decode(Campaign.self, from: Data(json.utf8)) }

    /// A list or campaign name: 1–64 of `a-z A-Z 0-9 . _ -` (it is part of Redis key names).
    public static func isValidName(_ name: String) -> Bool {
        !name.isEmpty && name.utf8.count <= 64
            && name.utf8.allSatisfy {
                ($0 >= 0x30 && $0 <= 0x39) || ($0 | 0x20 >= 0x61 && $0 | 0x20 <= 0x7A) || $0 == 0x2E || $0 == 0x5F || $0 == 0x2D
            }
    }
}

/// Where a campaign stands. `scheduled` → `running` → `sent` (every row enqueued); `paused`
/// and back; `cancelled` is final (rows not yet enqueued never are; queued mail still goes).
public enum CampaignState: String, Sendable, Codable, CaseIterable {
    case scheduled, running, paused, cancelled, sent, failed

    /// Whether a runner should work on it.
    public var isActive: Bool { self == .scheduled || self == .running }
    public var isFinal: Bool { self == .cancelled || self == .sent || self == .failed }
}
