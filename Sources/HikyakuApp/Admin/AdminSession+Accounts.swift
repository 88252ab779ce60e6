import DKIM
import Ingest
import Queue
import RelayCore

/// What `hikyaku account show` prints beside the account: its quota use and bounce rate.
public struct AccountUsage: Sendable {
    public var account: Account
    public var recipientsThisHour: Int
    public var recipientsToday: Int
    public var delivered: Int
    public var bounced: Int
}

/// An account's API key as listed (never the key itself).
public typealias APIKeyInfo = AccountStore.APIKeyInfo

extension AdminSession {
    public func createAccount(_ account: Account) async throws {
        try await accountStore.create(account)
        await audit("account.add", [("account", account.name)])
    }

    public func allAccounts() async throws -> [Account] {
        try await accountStore.all()
    }

    /// The account, its quota use and bounce statistics; nil when there is no such account.
    public func accountUsage(named name: String) async throws -> AccountUsage? {
        let store = accountStore
        guard let account = try await store.account(named: name) else { return nil }
        let usage = try await store.quotaUsage(name)
        let bounces = try await store.bounceStatistics(name)
        return AccountUsage(
            account: account, recipientsThisHour: usage.hour, recipientsToday: usage.day,
            delivered: bounces.delivered, bounced: bounces.bounced)
    }

    /// Reads the account, lets `change` edit it and stores it; returns what was stored.
    public func updateAccount(named name: String, _ change: (inout Account) throws -> Void) async throws -> Account {
        let store = accountStore
        guard var account = try await store.account(named: name) else { throw OperatorError("no account \(name)") }
        try change(&account)
        try await store.update(account)
        await audit("account.set", [("account", name)])
        return account
    }

    public func deleteAccount(_ name: String) async throws -> Bool {
        let deleted = try await accountStore.delete(name)
        if deleted { await audit("account.delete", [("account", name)]) }
        return deleted
    }

    public func pauseAccount(_ name: String, reason: String) async throws -> Bool {
        let changed = try await accountStore.pause(name, reason: reason)
        await audit("account.pause", [("account", name), ("reason", reason), ("changed", "\(changed)")])
        return changed
    }

    public func resumeAccount(_ name: String) async throws -> Bool {
        let changed = try await accountStore.resume(name)
        await audit("account.resume", [("account", name), ("changed", "\(changed)")])
        return changed
    }

    /// Makes an API key `hk_<id>_<48 hex>` for `account`; Redis keeps only its SHA-256.
    /// Returns the id and the key (to be shown once).
    public func createAPIKey(account: String, label: String?, scopes: [String], rate: Rate?) async throws -> (id: String, key: String) {
        guard try await accountStore.account(named: account) != nil else { throw OperatorError("no account named \(account)") }
        var rng = SystemRandomNumberGenerator()
        let hex = Array("0123456789abcdef")
        func random(_ count: Int) -> String { String((0..<count).map { _ in hex[Int(rng.next(upperBound: UInt64(16)))] }) }
        let id = random(8)
        let key = "hk_\(id)_\(random(48))"
        let info = APIKeyInfo(
            account: account, id: id, label: label, createdAt: WallClock.iso8601(milliseconds: WallClock.nowMilliseconds()),
            scopes: scopes, rate: rate)
        try await accountStore.addAPIKey(info, hash: try Digest.sha256Hex(key))
        await audit("api_key.create", [("account", account), ("id", id), ("scopes", scopes.joined(separator: ","))])
        return (id, key)
    }

    public func apiKeys(of account: String) async throws -> [APIKeyInfo] {
        try await accountStore.apiKeys(of: account)
    }

    public func revokeAPIKey(account: String, id: String) async throws -> Bool {
        let revoked = try await accountStore.revokeAPIKey(account: account, id: id)
        if revoked { await audit("api_key.revoke", [("account", account), ("id", id)]) }
        return revoked
    }
}

/// SMTP passwords of accounts and `ingest.users`.
public enum AccountPassword {
    /// A yescrypt hash (`$y$…`); nil when libxcrypt cannot make one.
    public static func hash(_ password: String) -> String? {
        PasswordHasher.hash(password)
    }

    /// 24 characters from an alphabet without look-alikes (no 0/O, 1/l/I).
    public static func random() -> String {
        let alphabet = Array("ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789")
        var rng = SystemRandomNumberGenerator()
        return String((0..<24).map { _ in alphabet[Int(rng.next(upperBound: UInt64(alphabet.count)))] })
    }
}
