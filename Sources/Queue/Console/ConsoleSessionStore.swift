import Foundation
import RedisClient
import RelayCore

/// Console sessions in Redis (`csess:<id>`, JSON with a TTL of `console.session_ttl`), so any
/// console host serves any session; and the audit log (stream `audit`).
///
/// The audit log is its own stream, not the events stream: the events stream is fanned
/// out to the accounts' webhooks and trimmed as they acknowledge, while who-did-what in
/// the console is the operator's record and must outlive that trimming.
public struct ConsoleSessionStore: Sendable {
    public let configuration: QueueConfiguration
    private let redis: RedisClient
    /// Entries the audit stream keeps (approximately; `XADD MAXLEN ~`).
    public static let auditMaxLength = 1_000_000

    public init(redis: RedisClient, configuration: QueueConfiguration = .init()) {
        self.redis = redis
        self.configuration = configuration
    }

    private var keys: QueueKeys { configuration.keys }

    public func create(_ session: ConsoleSessionRecord, id: String, ttlMilliseconds: Int64) async throws(QueueError) {
        let json: Data
        do { json = try ConsoleUserStore.encoder.encode(session) } catch { throw .malformed("cannot encode session: \(error)") }
        _ = try await redis.adminSend(
            RedisCommand("SET", [.string(keys.consoleSession(id)), .bytes(Array(json)), "PX", .integer(ttlMilliseconds)]))
    }

    public func session(id: String) async throws(QueueError) -> ConsoleSessionRecord? {
        let reply = try await redis.adminSend(RedisCommand("GET", [.string(keys.consoleSession(id))]))
        guard let buffer = reply.buffer else { return nil }
        return try? JSONDecoder().decode(ConsoleSessionRecord.self, from: Data(buffer.readableBytesView))
    }

    public func delete(id: String) async throws(QueueError) {
        _ = try await redis.adminSend(RedisCommand("DEL", [.string(keys.consoleSession(id))]))
    }

    /// Appends `who did what` to the audit stream. `fields`: the action's details.
    public func audit(actor: String, action: String, fields: [(String, String)]) async throws(QueueError) {
        var arguments: [RESPArgument] = [
            .string(keys.audit), "MAXLEN", "~", .integer(Int64(Self.auditMaxLength)), "*",
            "time", .string(WallClock.iso8601(milliseconds: WallClock.nowMilliseconds())), "actor", .string(actor), "action",
            .string(action),
        ]
        for (name, value) in fields { arguments += [.string(name), .string(value)] }
        _ = try await redis.adminSend(RedisCommand("XADD", arguments))
    }

    /// The newest `count` audit entries, newest first: (stream id, field → value).
    public func recentAudit(count: Int) async throws(QueueError) -> [(id: String, fields: [String: String])] {
        let reply = try await redis.adminSend(RedisCommand("XREVRANGE", [.string(keys.audit), "+", "-", "COUNT", .integer(Int64(count))]))
        return (reply.array ?? []).compactMap { entry -> (id: String, fields: [String: String])? in
            guard let parts = entry.array, parts.count == 2, let id = parts[0].string, let values = parts[1].array else { return nil }
            var fields: [String: String] = [:]
            var index = 0
            while index + 1 < values.count {
                if let key = values[index].string { fields[key] = values[index + 1].string ?? "" }
                index += 2
            }
            return (id, fields)
        }
    }
}

/// What a session holds: who, what they may see, and the CSRF token of its forms.
public struct ConsoleSessionRecord: Sendable, Codable, Hashable {
    public var user: String
    public var kind: ConsoleUser.Kind
    public var account: String?
    public var csrf: String
    public var createdAt: String

    enum CodingKeys: String, CodingKey { case user, kind, account, csrf, createdAt = "created_at" }

    public init(user: String, kind: ConsoleUser.Kind, account: String?, csrf: String, createdAt: String) {
        self.user = user
        self.kind = kind
        self.account = account
        self.csrf = csrf
        self.createdAt = createdAt
    }
}
