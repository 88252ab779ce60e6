import Logging
import NIOCore

/// The Redis client the rest of Hikyaku uses: a few pipelined connections, made
/// lazily, used round-robin, reconnected with backoff when the server goes away.
///
/// ```
/// let redis = RedisClient(configuration: .init(endpoint: endpoint), eventLoopGroup: group, logger: logger)
/// let reply = try await redis.send(RedisCommand("INCR", "counter"))     // C: INCR counter  S: :1
/// let replies = try await redis.pipeline(commands)                       // one write, one flush
/// await redis.shutdown()
/// ```
///
/// Failure behaviour:
/// - a request without a reply within ``Configuration/commandTimeout`` (plus the
///   blocking time a blocking command such as `BLPOP` or `XREAD BLOCK` asks for) fails with
///   ``RedisError/timeout`` and its connection is closed (other requests on it fail
///   with ``RedisError/connectionClosed``); the next request opens a new one;
/// - when the server goes away, requests in flight fail with ``RedisError/connectionClosed``
///   and the next request tries to reconnect; while attempts keep failing, requests
///   fail fast with ``RedisError/Kind/unavailable`` (saying when the next attempt is)
///   until the backoff has passed. Failed attempts are logged at warning level,
///   recovery at info.
public final class RedisClient: Sendable {
    public struct Configuration: Sendable {
        public var endpoint: RedisEndpoint
        /// How many connections requests are spread over (round-robin). At least 1.
        public var connectionCount: Int
        /// How long a request may wait for its reply.
        public var commandTimeout: Duration
        /// How long a TCP connect may take.
        public var connectTimeout: Duration
        /// The delay after the first failed connection attempt, doubling (with jitter) up to `max`.
        public var reconnectBackoff: (initial: Duration, max: Duration)
        /// When set, connections go to the primary the Sentinels name (the endpoint then
        /// supplies only credentials and database; its host and port are not used).
        public var sentinel: RedisSentinelConfiguration?
        /// TLS for a `rediss://` endpoint, to the data nodes and the Sentinels alike.
        /// Required with `rediss://` (connections fail without it); unused with `redis://`.
        public var tls: RedisTLS?
        /// When set, the client speaks to a Redis Cluster: each command goes to the primary
        /// of its key's slot (``RedisClusterRouter``); the endpoint then supplies only
        /// credentials and TLS (its host and port are not used; a cluster has no database but 0).
        public var cluster: RedisClusterConfiguration?

        public init(
            endpoint: RedisEndpoint,
            connectionCount: Int = 2,
            commandTimeout: Duration = .seconds(5),
            connectTimeout: Duration = .seconds(2),
            reconnectBackoff: (initial: Duration, max: Duration) = (initial: .milliseconds(100), max: .seconds(5)),
            tls: RedisTLS? = nil
        ) {
            self.tls = tls
            self.endpoint = endpoint
            self.connectionCount = connectionCount
            self.commandTimeout = commandTimeout
            self.connectTimeout = connectTimeout
            self.reconnectBackoff = reconnectBackoff
        }
    }

    public let configuration: Configuration
    /// One Redis (directly or through Sentinel), or a cluster's primaries.
    private enum Backend: Sendable {
        case single(RedisConnectionPool)
        case cluster(RedisClusterRouter)
    }

    private let backend: Backend

    /// Creates the client; no connection is made until the first request.
    ///
    /// - Parameter onConnect: runs on every new connection (pooled or dedicated)
    ///   before it serves requests, e.g. to `FUNCTION LOAD`. If it throws, the
    ///   attempt counts as a failed connection attempt.
    public init(
        configuration: Configuration,
        eventLoopGroup: any EventLoopGroup,
        logger: Logger,
        onConnect: (@Sendable (RedisConnection) async throws -> Void)? = nil
    ) {
        self.configuration = configuration
        if let cluster = configuration.cluster {
            self.backend = .cluster(
                RedisClusterRouter(
                    cluster: cluster, configuration: configuration, eventLoopGroup: eventLoopGroup, logger: logger,
                    onConnect: onConnect))
        } else {
            self.backend = .single(
                RedisConnectionPool(
                    configuration: configuration,
                    eventLoopGroup: eventLoopGroup,
                    logger: logger,
                    onConnect: onConnect
                ))
        }
    }

    /// Sends one command on the next connection and returns its reply.
    ///
    /// - Throws: ``RedisError``: `server` for an error reply, `timeout`,
    ///   `connectionClosed`, `connectionFailed`, `unavailable`, `clientShutdown`.
    public func send(_ command: RedisCommand) async throws -> RESPValue {
        let pool: RedisConnectionPool
        switch backend {
        case .single(let single): pool = single
        case .cluster(let router): return try await router.send(command)
        }
        let connection = try await pool.connection()
        do {
            return try await connection.send(command)
        } catch let error as RedisError {
            await Self.dropIfDemoted(connection, error.serverMessage)
            throw error
        }
    }

    /// Sends all commands on one connection in one write; replies come back in order,
    /// error replies as ``RESPValue/error(_:)`` values in their place.
    public func pipeline(_ commands: [RedisCommand]) async throws -> [RESPValue] {
        guard !commands.isEmpty else { return [] }
        let pool: RedisConnectionPool
        switch backend {
        case .single(let single): pool = single
        case .cluster(let router): return try await router.pipeline(commands)
        }
        let connection = try await pool.connection()
        let replies = try await connection.pipeline(commands)
        for case .error(let message) in replies { await Self.dropIfDemoted(connection, message) }
        return replies
    }

    /// A primary demoted by a failover answers writes with `READONLY`: close the
    /// connection so the next request reconnects — through the Sentinels, to the new primary.
    private static func dropIfDemoted(_ connection: RedisConnection, _ message: String?) async {
        if let message, message.hasPrefix("READONLY") { await connection.close() }
    }

    /// Runs `body` on a fresh connection of its own (through `onConnect` too), closed
    /// afterwards: for blocking commands such as `XREAD BLOCK` that would hold up
    /// every request pipelined behind them.
    ///
    /// The connection's default timeout is ``Configuration/commandTimeout``, extended
    /// by the blocking time a command asks for (`XREAD BLOCK 30000` may take 30 s more).
    ///
    /// On a Redis Cluster the connection goes to the primary of `key`'s slot (without a
    /// key: of the home key's, ``RedisClusterConfiguration/homeKey``); a `MOVED` that `body`
    /// throws corrects the slot map for the next connection.
    ///
    /// - Throws: ``RedisError/Kind/connectionFailed`` if the connection cannot be made,
    ///   and whatever `body` throws.
    public func withDedicatedConnection<T>(
        forKey key: String? = nil,
        isolation: isolated (any Actor)? = #isolation,
        _ body: (RedisConnection) async throws -> T
    ) async throws -> T {
        let connection: RedisConnection
        switch backend {
        case .single(let pool): connection = try await pool.makeConnection()
        case .cluster(let router): connection = try await router.makeConnection(forKey: key)
        }
        do {
            let result = try await body(connection)
            await connection.close()
            return result
        } catch {
            if case .cluster(let router) = backend {
                router.observe(error, node: RedisAddress(host: connection.endpoint.host, port: connection.endpoint.port))
            }
            await connection.close()
            throw error
        }
    }

    /// Runs `body` on a new connection to every primary — the one Redis, or each primary
    /// of a Redis Cluster's current slot map (e.g. to load function libraries everywhere:
    /// a function is only on the primaries it was loaded on and their replicas).
    public func withConnectionToEveryPrimary<T>(
        isolation: isolated (any Actor)? = #isolation,
        _ body: (RedisConnection) async throws -> T
    ) async throws -> [T] {
        let connections: [RedisConnection]
        switch backend {
        case .single(let pool): connections = [try await pool.makeConnection()]
        case .cluster(let router): connections = try await router.makeConnectionsToEveryPrimary()
        }
        var results: [T] = []
        do {
            for connection in connections { results.append(try await body(connection)) }
        } catch {
            for connection in connections { await connection.close() }
            throw error
        }
        for connection in connections { await connection.close() }
        return results
    }

    /// Closes every connection; later requests fail with ``RedisError/clientShutdown``.
    /// Call it before dropping the client: open connections are not closed otherwise.
    public func shutdown() async {
        switch backend {
        case .single(let pool): await pool.shutdown()
        case .cluster(let router): await router.shutdown()
        }
    }
}
