import Logging
import NIOCore

/// Where to find the primary when Redis runs with Sentinel (https://redis.io/docs/latest/operate/oss_and_stack/management/sentinel/):
/// the Sentinels' addresses and the name they monitor the primary under. Every new
/// connection asks the Sentinels (in order, first answer wins) for the current primary
/// with `SENTINEL get-master-addr-by-name`, connects, and checks with `ROLE` that the
/// server really is a primary (after a failover an old primary may still answer as a
/// replica for a moment) — the "Sentinel clients guidelines" of the Redis documentation.
public struct RedisSentinelConfiguration: Sendable, Hashable {
    public typealias Address = RedisAddress

    public var sentinels: [Address]
    public var masterName: String
    /// Sentinel's own `requirepass` or its ACL user's password, if any (the data nodes'
    /// credentials come from the endpoint).
    public var password: String?
    /// Sentinel's ACL user (`AUTH username password`); `nil`: its default user.
    public var username: String?

    public init(sentinels: [Address], masterName: String, password: String? = nil, username: String? = nil) {
        self.sentinels = sentinels
        self.masterName = masterName
        self.password = password
        self.username = username
    }

    /// The current primary's address, from the first Sentinel that knows it; over TLS
    /// when `tls` is given (the Sentinels' `tls-port`, with the data nodes' TLS settings).
    func primary(
        tls: RedisTLS?, eventLoop: EventLoop, logger: Logger, connectTimeout: Duration, commandTimeout: Duration
    ) async throws -> Address {
        var problems: [String] = []
        for sentinel in sentinels {
            do {
                let connection = try await RedisConnection.connect(
                    to: RedisEndpoint(
                        host: sentinel.host, port: sentinel.port, username: username, password: password,
                        usesTLS: tls != nil),
                    tls: tls, eventLoop: eventLoop, logger: logger, connectTimeout: connectTimeout, commandTimeout: commandTimeout)
                let reply: RESPValue
                do {
                    reply = try await connection.send(RedisCommand("SENTINEL", ["get-master-addr-by-name", .string(masterName)]))
                } catch {
                    await connection.close()
                    throw error
                }
                await connection.close()
                guard let parts = reply.array, parts.count == 2, let host = parts[0].string,
                    let port = parts[1].string.flatMap({ Int($0) })
                else {
                    problems.append("\(sentinel): does not know a primary named '\(masterName)'")
                    continue
                }
                return Address(host: host, port: port)
            } catch {
                problems.append("\(sentinel): \(error)")
            }
        }
        throw RedisError.connectionFailed("no Sentinel named the primary '\(masterName)' (\(problems.joined(separator: "; ")))")
    }
}
