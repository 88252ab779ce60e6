import Foundation
import RedisClient
import RelayCore

/// Who may log in to the web console: operators (everything) and console users of one
/// account (its data only). Keys (docs/KEY-LAYOUT.md): `cusers` (set of login names) and
/// `cuser:<name>` (JSON, ``ConsoleUser``). Login names are one namespace, so a name says
/// who logs in without an account field on the login form.
public struct ConsoleUserStore: Sendable {
    public let configuration: QueueConfiguration
    private let redis: RedisClient

    public init(redis: RedisClient, configuration: QueueConfiguration = .init()) {
        self.redis = redis
        self.configuration = configuration
    }

    private var keys: QueueKeys { configuration.keys }

    /// Stores a new user; false if the name is taken.
    public func add(_ user: ConsoleUser) async throws(QueueError) -> Bool {
        let json: Data
        do { json = try Self.encoder.encode(user) } catch { throw .malformed("cannot encode console user: \(error)") }
        let replies = try await redis.adminPipeline([
            RedisCommand("SET", [.string(keys.consoleUser(user.name)), .bytes(Array(json)), "NX"]),
            RedisCommand("SADD", [.string(keys.consoleUsers), .string(user.name)]),
        ])
        // SET NX answers nil when the name existed (the SADD was then a no-op).
        return replies[0].string == "OK"
    }

    /// Replaces a user's record (a new password).
    public func update(_ user: ConsoleUser) async throws(QueueError) {
        let json: Data
        do { json = try Self.encoder.encode(user) } catch { throw .malformed("cannot encode console user: \(error)") }
        _ = try await redis.adminSend(RedisCommand("SET", [.string(keys.consoleUser(user.name)), .bytes(Array(json)), "XX"]))
    }

    public func user(named name: String) async throws(QueueError) -> ConsoleUser? {
        guard ConsoleUser.isValidName(name) else { return nil }
        let reply = try await redis.adminSend(RedisCommand("GET", [.string(keys.consoleUser(name))]))
        guard let buffer = reply.buffer else { return nil }
        do { return try JSONDecoder().decode(ConsoleUser.self, from: Data(buffer.readableBytesView)) } catch {
            throw .malformed("console user JSON does not decode: \(error)")
        }
    }

    /// Every user, by name. Their sessions end at their next request (the session check
    /// reads the user back), so a removal takes effect at once.
    public func all() async throws(QueueError) -> [ConsoleUser] {
        let names = (try await redis.adminSend(RedisCommand("SMEMBERS", [.string(keys.consoleUsers)])).array ?? [])
            .compactMap(\.string).sorted()
        guard !names.isEmpty else { return [] }
        let replies = try await redis.adminPipeline(names.map { RedisCommand("GET", [.string(keys.consoleUser($0))]) })
        return replies.compactMap { reply in
            reply.buffer.flatMap { try? JSONDecoder().decode(ConsoleUser.self, from: Data($0.readableBytesView)) }
        }
    }

    /// Removes a user; false if there was none of that name (or of that kind).
    public func remove(_ name: String, kind: ConsoleUser.Kind, account: String? = nil) async throws(QueueError) -> Bool {
        guard let existing = try await user(named: name), existing.kind == kind, account == nil || existing.account == account else {
            return false
        }
        _ = try await redis.adminPipeline([
            RedisCommand("DEL", [.string(keys.consoleUser(name))]),
            RedisCommand("SREM", [.string(keys.consoleUsers), .string(name)]),
        ])
        return true
    }

    static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }()
}

/// A console login. The password is kept only as a crypt(3) hash (yescrypt, as SMTP passwords).
public struct ConsoleUser: Sendable, Codable, Hashable {
    public enum Kind: String, Sendable, Codable { case `operator`, account }
    public var name: String
    public var kind: Kind
    /// The account whose data an `account` user sees; nil for operators.
    public var account: String?
    public var passwordHash: String
    public var createdAt: String

    enum CodingKeys: String, CodingKey { case name, kind, account, passwordHash = "password_hash", createdAt = "created_at" }

    public init(name: String, kind: Kind, account: String?, passwordHash: String, createdAt: String) {
        self.name = name
        self.kind = kind
        self.account = account
        self.passwordHash = passwordHash
        self.createdAt = createdAt
    }

    /// 1–64 of letters, digits, `.`, `-`, `_`, `@` (an e-mail address works as a name).
    public static func isValidName(_ name: String) -> Bool {
        (1...64).contains(name.utf8.count)
            && name.utf8.allSatisfy { c in
                (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) || c == 0x2E || c == 0x2D || c == 0x5F
                    || c == 0x40
            }
    }
}
