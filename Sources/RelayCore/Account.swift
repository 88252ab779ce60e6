/// A tenant of the relay: who may send, from where, as whom, how much, and through which
/// egress pool. Accounts live in Redis (`hikyaku account …` manages them) so every ingest
/// node sees the same ones; stored as this struct's JSON.
public struct Account: Sendable, Codable, Hashable, CustomStringConvertible {
    /// Also the SMTP AUTH user name. Letters, digits, `.`, `_`, `-`; at most 64.
    public var name: String
    /// crypt(3) hash of the SMTP password (yescrypt from `hikyaku account add`); nil: no SMTP AUTH.
    public var passwordHash: String?
    /// Source networks whose connections relay as this account without AUTH.
    public var allowedNetworks: [IPNetwork]
    /// Egress pool for this account's mail.
    public var pool: PoolName
    /// Domains this account sends from (envelope sender and `From:` header; subdomains
    /// included). Empty: any domain, unless `restrictSenders` says otherwise.
    public var sendingDomains: [String]
    /// Refuse senders outside `sendingDomains` (default true). False lets a trusted account
    /// send as anyone (a legacy application relaying for many domains).
    public var restrictSenders: Bool
    /// Most recipients accepted per rolling clock hour / UTC day; nil: unlimited.
    public var hourlyQuota: Int?
    public var dailyQuota: Int?
    /// Per-account limits below the listener's; nil: the listener's.
    public var maxMessageSize: Int?
    public var maxRecipients: Int?
    /// Set while the account may not send (by an operator, or automatically when its hard
    /// bounce rate went over the threshold); cleared by `hikyaku account resume`.
    public var paused: Pause?
    /// When the account was created (RFC 3339).
    public var createdAt: String
    /// The domain of its VERP return path: mail is sent with `MAIL FROM:<b-<token>@<this>>`
    /// (one per recipient; see `ReturnPath.VERPToken`), so bounces come back to the relay's
    /// bounce listener (the domain's MX). Nil: the original envelope sender is kept.
    public var returnPathDomain: String?
    /// Send RFC 3464 delivery status notifications (from `<>`) to the envelope sender of
    /// this account's SMTP-submitted mail when a recipient bounces or expires — for senders
    /// that do not read VERP bounces or webhooks. Only to a sender in `sendingDomains`, never
    /// to one the account could not send as. Default false.
    public var sendDSNs: Bool

    /// Without the password hash, so a logged account never carries it.
    public var description: String { "Account(\(name), pool \(pool)\(paused == nil ? "" : ", paused"))" }

    public struct Pause: Sendable, Codable, Hashable {
        public var reason: String
        public var since: String

        public init(reason: String, since: String) {
            self.reason = reason
            self.since = since
        }
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case name, passwordHash = "password_hash", allowedNetworks = "allowed_networks", pool
        case sendingDomains = "sending_domains", restrictSenders = "restrict_senders"
        case hourlyQuota = "hourly_quota", dailyQuota = "daily_quota"
        case maxMessageSize = "max_message_size", maxRecipients = "max_recipients", paused, createdAt = "created_at"
        case returnPathDomain = "return_path_domain", sendDSNs = "send_dsns"
    }

    public init(name: String, pool: PoolName = .default, createdAt: String) {
        self.name = name
        self.passwordHash = nil
        self.allowedNetworks = []
        self.pool = pool
        self.sendingDomains = []
        self.restrictSenders = true
        self.sendDSNs = false
        self.createdAt = createdAt
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        name = try c.decode(String.self, forKey: .name)
        passwordHash = try c.decodeIfPresent(String.self, forKey: .passwordHash)
        allowedNetworks = try c.decodeIfPresent([IPNetwork].self, forKey: .allowedNetworks) ?? []
        pool = try c.decodeIfPresent(PoolName.self, forKey: .pool) ?? .default
        sendingDomains = try c.decodeIfPresent([String].self, forKey: .sendingDomains) ?? []
        restrictSenders = try c.decodeIfPresent(Bool.self, forKey: .restrictSenders) ?? true
        hourlyQuota = try c.decodeIfPresent(Int.self, forKey: .hourlyQuota)
        dailyQuota = try c.decodeIfPresent(Int.self, forKey: .dailyQuota)
        maxMessageSize = try c.decodeIfPresent(Int.self, forKey: .maxMessageSize)
        maxRecipients = try c.decodeIfPresent(Int.self, forKey: .maxRecipients)
        paused = try c.decodeIfPresent(Pause.self, forKey: .paused)
        createdAt = try c.decodeIfPresent(String.self, forKey: .createdAt) ?? ""
        returnPathDomain = try c.decodeIfPresent(String.self, forKey: .returnPathDomain)
        sendDSNs = try c.decodeIfPresent(Bool.self, forKey: .sendDSNs) ?? false
    }

    /// Lower case, no trailing dot (as ``DomainName``).
    public static func normalizedDomain(_ domain: String) -> String {
        DomainName(normalizing: domain).rawValue
    }

    /// Checks a name given on the command line.
    public static func validate(name: String) throws(ConfigurationError) {
        let allowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-")
        guard !name.isEmpty, name.count <= 64, name.allSatisfy(allowed.contains) else {
            throw ConfigurationError(key: "account name", problem: "'\(name)' must be 1–64 letters, digits, '.', '_' or '-'")
        }
    }

    /// Checks a sending domain given on the command line; returns it normalised.
    public static func validate(domain: String) throws(ConfigurationError) -> String {
        let domain = normalizedDomain(domain)
        let labels = domain.split(separator: ".", omittingEmptySubsequences: false)
        let allowed = Set("abcdefghijklmnopqrstuvwxyz0123456789-")
        guard labels.count >= 2, domain.count <= 253,
            labels.allSatisfy({
                !$0.isEmpty && $0.count <= 63 && $0.allSatisfy(allowed.contains) && !$0.hasPrefix("-") && !$0.hasSuffix("-")
            })
        else {
            throw ConfigurationError(key: "domain", problem: "'\(domain)' is not a domain name (e.g. example.com; IDNs in their xn-- form)")
        }
        return domain
    }
}
