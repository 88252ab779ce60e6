import RedisClient

/// A lease one process holds at a time (the SQLite archiver's): `SET key token NX PX`, renewed
/// and released only by its holder (`hkw_renew`, `hkw_release`: compare-and-act on the token),
/// so a process that stalls past the lease loses it to another instead of both acting.
public struct ExclusiveLease: Sendable {
    private let redis: RedisClient
    public let key: String
    public let token: String

    public init(redis: RedisClient, key: String, token: String) {
        self.redis = redis
        self.key = key
        self.token = token
    }

    /// Takes the lease if no one holds it (or this token already does, renewing it).
    public func acquire(milliseconds: Int64) async throws -> Bool {
        let reply = try await redis.send(RedisCommand("SET", [.string(key), .string(token), "NX", "PX", .integer(milliseconds)]))
        if reply.string == "OK" { return true }
        return try await renew(milliseconds: milliseconds)
    }

    /// Extends the lease if this token still holds it.
    public func renew(milliseconds: Int64) async throws -> Bool {
        try await redis.send(MessageQueue.fcall("hkw_renew", keys: [key], [.string(token), .integer(milliseconds)])).int == 1
    }

    public func release() async {
        _ = try? await redis.send(MessageQueue.fcall("hkw_release", keys: [key], [.string(token)]))
    }
}
