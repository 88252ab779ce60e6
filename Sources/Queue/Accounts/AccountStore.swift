import Foundation
import Logging
import RedisClient
import RelayCore

/// Accounts (tenants) in Redis, where every ingest node sees them (`QueueKeys` and
/// docs/KEY-LAYOUT.md describe the keys; `Sources/Queue/Lua/hikyaku_accounts.lua` the steps): what `hikyaku account …` edits and `AccountDirectory` caches;
/// plus the shared SMTP AUTH lockout counters.
public struct AccountStore: Sendable {
    public let configuration: QueueConfiguration
    private let redis: RedisClient

    public init(redis: RedisClient, configuration: QueueConfiguration = .init()) {
        self.redis = redis
        self.configuration = configuration
    }

    private var keys: QueueKeys { configuration.keys }

    // MARK: Accounts

    /// Stores a new account; fails if the name is taken.
    public func create(_ account: Account) async throws(QueueError) {
        try await put(account, mode: "create")
    }

    /// Replaces an existing account (its pause state is kept separately and not touched).
    public func update(_ account: Account) async throws(QueueError) {
        try await put(account, mode: "update")
    }

    private func put(_ account: Account, mode: String) async throws(QueueError) {
        var stored = account
        stored.paused = nil
        let json: Data
        do { json = try Self.encoder.encode(stored) } catch { throw .malformed("cannot encode account: \(error)") }
        _ = try await redis.adminCall(
            "hka_account_put", keys: [keys.account(account.name), keys.accounts, keys.accountsVersion],
            [.string(account.name), .bytes(Array(json)), .string(mode)])
    }

    /// The account, with its pause state; nil if there is none of that name.
    public func account(named name: String) async throws(QueueError) -> Account? {
        let replies = try await redis.adminPipeline([
            RedisCommand("GET", [.string(keys.account(name))]),
            RedisCommand("GET", [.string(keys.accountPaused(name))]),
        ])
        return try Self.decode(replies[0], paused: replies[1])
    }

    /// Every account, by name.
    public func all() async throws(QueueError) -> [Account] {
        try await snapshot().accounts
    }

    /// Every account and the version they were read at (`acct:version`), in one pipelined
    /// round trip after the list of names.
    public func snapshot() async throws(QueueError) -> (version: Int64, accounts: [Account]) {
        let head = try await redis.adminPipeline([
            RedisCommand("GET", [.string(keys.accountsVersion)]),
            RedisCommand("SMEMBERS", [.string(keys.accounts)]),
        ])
        let version = head[0].int ?? head[0].string.flatMap { Int64($0) } ?? 0
        let names = (head[1].array ?? []).compactMap(\.string).sorted()
        guard !names.isEmpty else { return (version, []) }
        var commands: [RedisCommand] = []
        for name in names {
            commands.append(RedisCommand("GET", [.string(keys.account(name))]))
            commands.append(RedisCommand("GET", [.string(keys.accountPaused(name))]))
        }
        let replies = try await redis.adminPipeline(commands)
        var accounts: [Account] = []
        for index in names.indices {
            if let account = try Self.decode(replies[2 * index], paused: replies[2 * index + 1]) { accounts.append(account) }
        }
        return (version, accounts)
    }

    /// The version counter alone (cheap: ingest nodes poll it).
    public func version() async throws(QueueError) -> Int64 {
        let reply = try await redis.adminSend(RedisCommand("GET", [.string(keys.accountsVersion)]))
        return reply.int ?? reply.string.flatMap { Int64($0) } ?? 0
    }

    /// Removes an account. Mail it already sent stays queued and is delivered.
    @discardableResult
    public func delete(_ name: String) async throws(QueueError) -> Bool {
        try await redis.adminCall(
            "hka_account_delete",
            keys: [
                keys.account(name), keys.accountPaused(name), keys.accountAPIKeys(name), keys.accounts,
                keys.accountsVersion,
            ],
            [.string(name), .string(keys.apiKeyStem)]
        ).int == 1
    }

    /// Pauses an account (its clients get `451 4.7.1` at MAIL) and records a `paused`
    /// event. Returns false if it was already paused.
    @discardableResult
    public func pause(_ name: String, reason: String) async throws(QueueError) -> Bool {
        var event = DeliveryEvent(
            event: .paused, time: WallClock.iso8601(milliseconds: WallClock.nowMilliseconds()),
            queueID: "", messageID: nil, sender: "")
        event.account = name
        event.reply = reason
        event.node = "operator"
        return try await redis.adminCall(
            "hka_account_pause",
            keys: [keys.accountPaused(name), keys.accountsVersion, keys.events],
            [
                .string(name), .bytes(EventCoding.encode(event)),
                .integer(Int64(configuration.eventsMaxLength)), .string(keys.account(name)),
            ]
        ).int == 1
    }

    /// Lifts a pause, records a `resumed` event and forgets the bounce statistics the pause
    /// was judged on. Returns false if it was not paused.
    @discardableResult
    public func resume(_ name: String) async throws(QueueError) -> Bool {
        var event = DeliveryEvent(
            event: .resumed, time: WallClock.iso8601(milliseconds: WallClock.nowMilliseconds()),
            queueID: "", messageID: nil, sender: "")
        event.account = name
        event.reply = "resumed by operator"
        event.node = "operator"
        return try await redis.adminCall(
            "hka_account_resume",
            keys: [keys.accountPaused(name), keys.accountsVersion, keys.events],
            [
                .string(name), .bytes(EventCoding.encode(event)), .integer(Int64(configuration.eventsMaxLength)),
                .integer(Int64(max(configuration.bounceGuard.windowHours, configuration.complaintGuard.windowHours))),
                .string(keys.bouncesStem(account: name)), .string(keys.account(name)),
            ]
        ).int == 1
    }

    /// Recipients counted against the account's quotas in the current clock hour and UTC day.
    public func quotaUsage(_ name: String) async throws(QueueError) -> (hour: Int, day: Int) {
        let now = WallClock.nowMilliseconds()
        let replies = try await redis.adminPipeline([
            RedisCommand("GET", [.string(keys.quota(account: name, hour: now / 3_600_000))]),
            RedisCommand("GET", [.string(keys.quota(account: name, day: now / 86_400_000))]),
        ])
        return (Int(replies[0].string ?? "0") ?? 0, Int(replies[1].string ?? "0") ?? 0)
    }

    /// Delivered and hard-bounced recipients over the bounce window.
    public func bounceStatistics(_ name: String) async throws(QueueError) -> (delivered: Int, bounced: Int) {
        let hour = WallClock.nowMilliseconds() / 3_600_000
        let hours = (hour - Int64(configuration.bounceGuard.windowHours) + 1)...hour
        let replies = try await redis.adminPipeline(
            hours.map {
                RedisCommand("HMGET", [.string(keys.bounces(account: name, hour: $0)), "delivered", "bounced"])
            })
        var delivered = 0, bounced = 0
        for reply in replies {
            let values = reply.array ?? []
            delivered += Int(values.first?.string ?? "0") ?? 0
            bounced += Int(values.dropFirst().first?.string ?? "0") ?? 0
        }
        return (delivered, bounced)
    }

    // MARK: API keys

    /// What is stored of an API key (never the key itself: only its SHA-256).
    public struct APIKeyInfo: Sendable, Codable, Hashable {
        public var account: String
        public var id: String
        public var label: String?
        public var createdAt: String
        /// What the key may do (`send`, `read`, `webhooks`, `suppressions`); nil for keys made
        /// before scopes existed, which may `send` and `read`.
        public var scopes: [String]?
        /// Requests per second the key may make (its own GCRA limit), nil: `api.key_rate`.
        public var rate: Rate?

        enum CodingKeys: String, CodingKey { case account, id, label, createdAt = "created_at", scopes, rate }

        public init(account: String, id: String, label: String?, createdAt: String, scopes: [String]? = nil, rate: Rate? = nil) {
            self.account = account
            self.id = id
            self.label = label
            self.createdAt = createdAt
            self.scopes = scopes
            self.rate = rate
        }

        /// Scopes of a key that names none.
        public static let legacyScopes = ["send", "read"]
    }

    /// Records a new key by its hash (the caller shows the key once and forgets it).
    public func addAPIKey(_ info: APIKeyInfo, hash: String) async throws(QueueError) {
        let json: Data
        do { json = try Self.encoder.encode(info) } catch { throw .malformed("cannot encode API key: \(error)") }
        _ = try await redis.adminCall(
            "hka_apikey_add",
            keys: [keys.account(info.account), keys.apiKey(hash: hash), keys.accountAPIKeys(info.account)],
            [.string(info.account), .string(info.id), .string(hash), .bytes(Array(json))])
    }

    /// The key an HTTP client presented, by its hash; nil if unknown or revoked.
    public func apiKey(hash: String) async throws(QueueError) -> APIKeyInfo? {
        let reply = try await redis.adminSend(RedisCommand("GET", [.string(keys.apiKey(hash: hash))]))
        guard let buffer = reply.buffer else { return nil }
        return try? JSONDecoder().decode(APIKeyInfo.self, from: Data(buffer.readableBytesView))
    }

    /// The account's keys (without secrets).
    public func apiKeys(of account: String) async throws(QueueError) -> [APIKeyInfo] {
        let hashes = (try await redis.adminSend(RedisCommand("HVALS", [.string(keys.accountAPIKeys(account))])).array ?? [])
            .compactMap(\.string)
        guard !hashes.isEmpty else { return [] }
        let replies = try await redis.adminPipeline(hashes.map { RedisCommand("GET", [.string(keys.apiKey(hash: $0))]) })
        return replies.compactMap { reply in
            reply.buffer.flatMap { try? JSONDecoder().decode(APIKeyInfo.self, from: Data($0.readableBytesView)) }
        }.sorted { $0.createdAt < $1.createdAt }
    }

    @discardableResult
    public func revokeAPIKey(account: String, id: String) async throws(QueueError) -> Bool {
        try await redis.adminCall(
            "hka_apikey_revoke", keys: [keys.accountAPIKeys(account)],
            [.string(id), .string(keys.apiKeyStem)]
        ).int == 1
    }

    // MARK: Sending domains (DKIM keys)

    public func putDomain(_ domain: SendingDomain) async throws(QueueError) {
        let json: Data
        do { json = try Self.encoder.encode(domain) } catch { throw .malformed("cannot encode domain: \(error)") }
        _ = try await redis.adminCall(
            "hka_domain_put", keys: [keys.sendingDomain(domain.domain), keys.domains, keys.accountsVersion],
            [.string(domain.domain), .bytes(Array(json))])
    }

    public func domain(_ name: String) async throws(QueueError) -> SendingDomain? {
        let reply = try await redis.adminSend(RedisCommand("GET", [.string(keys.sendingDomain(name))]))
        return try Self.decodeDomain(reply)
    }

    /// Every sending domain, by name.
    public func domains() async throws(QueueError) -> [SendingDomain] {
        let names = (try await redis.adminSend(RedisCommand("SMEMBERS", [.string(keys.domains)])).array ?? [])
            .compactMap(\.string).sorted()
        guard !names.isEmpty else { return [] }
        let replies = try await redis.adminPipeline(names.map { RedisCommand("GET", [.string(keys.sendingDomain($0))]) })
        var domains: [SendingDomain] = []
        for reply in replies { if let domain = try Self.decodeDomain(reply) { domains.append(domain) } }
        return domains
    }

    @discardableResult
    public func deleteDomain(_ name: String) async throws(QueueError) -> Bool {
        try await redis.adminCall(
            "hka_domain_delete", keys: [keys.sendingDomain(name), keys.domains, keys.accountsVersion],
            [.string(name)]
        ).int == 1
    }

    static func decodeDomain(_ reply: RESPValue) throws(QueueError) -> SendingDomain? {
        guard let buffer = reply.buffer else { return nil }
        do { return try JSONDecoder().decode(SendingDomain.self, from: Data(buffer.readableBytesView)) } catch {
            throw .malformed("domain JSON does not decode: \(error)")
        }
    }

    // MARK: AUTH lockout

    /// How long the client address or the user name is still locked out (zero: not). The
    /// user name's lockout does not apply at an address where it logged in before.
    /// `address` is the counting key (an IPv6 client's /64), `user` at most 256 octets.
    public func authLockout(address: String, user: String) async throws(QueueError) -> Duration {
        let reply = try await redis.adminCall(
            "hk_auth_gate",
            keys: [
                keys.authFailures(address: address), keys.authFailures(user: user),
                keys.authKnown(address: address, user: user),
            ], [])
        return .milliseconds(reply.int ?? 0)
    }

    /// Counts a failed AUTH; returns the lockout now in force (zero below the threshold).
    public func authFailed(address: String, user: String, policy: AccountSettings) async throws(QueueError) -> Duration {
        let reply = try await redis.adminCall(
            "hk_auth_failed", keys: [keys.authFailures(address: address), keys.authFailures(user: user)],
            [
                .integer(Int64(policy.authFailuresBeforeLockout)),
                .integer(policy.authLockout.milliseconds), .integer(policy.authLockoutMax.milliseconds),
            ])
        return .milliseconds(reply.int ?? 0)
    }

    /// A correct password: remembers `address` as known for `user` for
    /// `accounts.auth_known_address_ttl`, and clears the user's failure count unless a
    /// lockout is in force (a known address must not reset what guessers elsewhere built up).
    public func authSucceeded(address: String, user: String, policy: AccountSettings) async throws(QueueError) {
        _ = try await redis.adminCall(
            "hk_auth_succeeded", keys: [keys.authKnown(address: address, user: user), keys.authFailures(user: user)],
            [.integer(policy.authKnownAddressTTL.milliseconds)])
    }

    // MARK: Coding

    static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }()

    static func decode(_ reply: RESPValue, paused: RESPValue) throws(QueueError) -> Account? {
        guard let buffer = reply.buffer else { return nil }
        var account: Account
        do { account = try JSONDecoder().decode(Account.self, from: Data(buffer.readableBytesView)) } catch {
            throw .malformed("account JSON does not decode: \(error)")
        }
        if let pausedBuffer = paused.buffer,
            let event = try? EventCoding.decode(pausedBuffer)
        {
            account.paused = Account.Pause(reason: event.reply ?? "paused", since: event.time)
        }
        return account
    }
}
